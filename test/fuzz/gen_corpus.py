#!/usr/bin/env python3
"""Write the seed corpora of test/fuzz/corpus/ (run from anywhere; rewrites the seed-*
files, leaves every other file, such as crash-* regressions, alone). Arguments name the
corpora to write (gen_corpus.py xfr); none: every one.

answer:      3-byte prefix (flags, client byte, health edits) + edits + a DNS query in wire
             form, built here byte by byte (no dig: its +qr output is text, not wire)
config:      a selector byte (0 steerd.json, 1 pools/homelab.json, 2 monitors/api-health.json)
             + a JSON file of test/data
jsonpos:     JSON texts of test/data and a few edge cases
api_request: real HTTP/1.1 requests as steerctl and curl send them
xfr:         AXFR, IXFR and SOA queries in wire form for the zone of fuzz_xfr.c, unsigned and
             TSIG-signed (RFC 8945, computed here with hmac at the fixed clock of
             fuzz_xfr.c, with its keys), and malformed ones
"""
import hashlib
import hmac
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
ZONE = "lb.example.test"


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def opt(size=1232, version=0, do=False, nsid=False):
    rdata = struct.pack(">HH", 3, 0) if nsid else b""
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack(">HHIH", 41, size, ttl, len(rdata)) + rdata


def query(qname, qtype=1, qclass=1, qid=0x1234, flags=0x0000, edns=None, extra=b"",
          counts=None):
    ar = 1 if edns is not None else 0
    qd, an, ns = 1, 0, 0
    if counts is not None:
        qd, an, ns, ar = counts
    head = struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)
    body = name(qname) + struct.pack(">HH", qtype, qclass) if qname is not None else b""
    return head + body + extra + (edns if edns is not None else b"")


def prefix(tcp=False, v6=False, client=7, edits=()):
    out = bytes([(1 if tcp else 0) | (2 if v6 else 0), client, len(edits)])
    for slot, value in edits:
        out += bytes([slot, value])
    return out


def answer_seeds():
    # health edit slots for test/data/bb (pools in file-name order): origins 0-22 (allpool
    # 0-9, hashpool 10-13, homelab 14-16, hostpool 17, inpool 18, parents 19, v4pool
    # 20-22), pools 23-29 (homelab 25), balancers 30-36 (api 30)
    z = ZONE
    soa = (name(z) + struct.pack(">HHIH", 6, 1, 60, 22) + b"\0\0" +
           struct.pack(">IIIII", 1, 0, 0, 0, 0))
    seeds = {
        "api-a": prefix() + query("api." + z),
        "api-aaaa-tcp": prefix(tcp=True) + query("api." + z, 28),
        "api-a-homelab-down": prefix(edits=((14, 2), (15, 2), (16, 2))) + query("api." + z),
        "api-a-overrides": prefix(edits=((14, 3 * 1), (15, 3 * 2), (16, 3 * 3))) +
        query("API.lb.Example.TEST"),
        "api-a-pool-down-pin": prefix(edits=((25, 2), (30, 2))) + query("api." + z),
        "www-cname": prefix() + query("www." + z),
        "nxdomain-edns": prefix() + query("nope." + z, edns=opt()),
        "refused-nsid": prefix() + query("example.com", edns=opt(nsid=True)),
        "version-bind": prefix() + query("version.bind", 16, 3),
        "id-server-tcp": prefix(tcp=True) + query("id.server", 16, 3),
        "big-txt-udp": prefix() + query("big." + z, 16, edns=opt(512)),
        "big-txt-tcp": prefix(tcp=True) + query("big." + z, 16),
        "any-apex": prefix() + query(z, 255, edns=opt(4096, do=True)),
        "badvers": prefix() + query(z, 6, edns=opt(version=1)),
        "axfr": prefix(tcp=True) + query(z, 252),
        "ixfr-soa": prefix(tcp=True) + query(z, 251, counts=(1, 0, 1, 0), extra=soa),
        "notify-opcode": prefix() + query(z, 6, flags=0x2000),
        "no-question": prefix() + query(None, counts=(0, 0, 0, 0)),
        "pointer-qname": prefix() + query(None, counts=(1, 0, 0, 0)) + b"\xc0\x0c\0\1\0\1",
        "response-qr": prefix() + query("api." + z, flags=0x8000),
        "short-header": prefix() + b"\x12\x34\x00",
        "all-pool-v6": prefix(v6=True, client=200) + query("all." + z),
        "hash-pool": prefix(client=99) + query("hash." + z, edns=opt(1400)),
        "rnd-random": prefix(client=3, edits=((20, 2), (21, 2), (22, 2))) + query("rnd." + z),
        "host-cname": prefix() + query("host." + z),
        "referral": prefix() + query("www.sub." + z),
        "wildcard": prefix() + query("a.wild." + z, 16),
        "chain": prefix() + query("c0." + z),
        "loop": prefix() + query("loop1." + z),
        "ent": prefix() + query("b.c.ent." + z),
        "rd-cd": prefix() + query("mx1." + z, flags=0x0110),
    }
    return seeds


def read(path):
    with open(os.path.join(SRC, path), "rb") as f:
        return f.read()


def json_files():
    out = []
    for root, _, files in os.walk(os.path.join(SRC, "test", "data")):
        for f in sorted(files):
            if f.endswith(".json"):
                out.append(os.path.relpath(os.path.join(root, f), SRC))
    return sorted(out)


def config_seeds():
    seeds = {}
    for path in json_files():
        base = os.path.basename(path)
        sel = 0 if base == "steerd.json" else 2 if "/monitors/" in path else 1
        key = path.replace("test/data/", "").replace("/", "-").replace(".json", "")
        seeds[key] = bytes([sel]) + read(path)
    seeds["syntax-error"] = b"\0{\n  \"listen\": [\"127.0.0.1:5353\",]\n}\n"
    seeds["pool-typo"] = (b"\1{\"name\": \"homelab\", \"origins\": [{\"name\": \"a\", "
                          b"\"address\": \"127.0.0.11\", \"wieght\": 2}]}")
    return seeds


def jsonpos_seeds():
    seeds = {}
    for path in json_files()[:12]:
        seeds[path.replace("test/data/", "").replace("/", "-").replace(".json", "")] = \
            read(path)
    seeds["escapes"] = b'{"a\\"b": ["\\u00e9\\ud83d\\ude00", 1.5e3, -0, true, false, null]}'
    seeds["dotted-keys"] = b'{"a.b": 1, "a": {"b": 2}, "c[0]": [3]}'
    seeds["nested"] = b"[" * 20 + b"]" * 20
    seeds["crlf"] = b'{\r\n\t"k":\r\n\t\t"v"\r\n}'
    seeds["trailing-nul"] = b'{"n": 12\0}'
    return seeds


def http(method, path, extra=b"", body=b""):
    head = method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1:8053\r\n"
    head += b"User-Agent: steerctl/0.1.0\r\nAccept: application/json\r\n" + extra
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def api_seeds():
    auth = b"Authorization: Bearer 0123456789abcdef0123\r\n"
    return {
        "get-status": http("GET", "/v1/status"),
        "get-version-10": b"GET /v1/version HTTP/1.0\r\n\r\n",
        "history": http("GET", "/v1/origins/homelab/lab-a/history?since=1h&limit=50"),
        "events": http("GET", "/v1/events?since=1700000000&limit=10"),
        "explain": http("GET", "/v1/explain?name=api&type=AAAA&client=192.0.2.1"),
        "override": http("POST", "/v1/origins/homelab/lab-a/override", auth,
                         b'{"state": "drain", "for": "30m", "reason": "maintenance"}'),
        "pool-override": http("POST", "/v1/pools/homelab/override", auth,
                              b'{"state": "auto"}'),
        "failback": http("POST", "/v1/balancers/api/failback", auth),
        "reload-expect": http("POST", "/v1/reload", auth + b"Expect: 100-continue\r\n",
                              b"{}"),
        "percent": http("GET", "/v1/origins/a%2Fb/c%C3%A9/history?x=a+b%21"),
        "curl": b"GET /metrics HTTP/1.1\r\nHost: localhost:8053\r\nUser-Agent: curl/7.88.1"
                b"\r\nAccept: */*\r\n\r\n5m",
        "chunked": http("POST", "/v1/reload", b"Transfer-Encoding: chunked\r\n"),
    }


# the keys and the fixed clock of fuzz_xfr.c
XFR_NOW = 1700000000
XFR_KEYS = {
    "k1.": ("hmac-sha256.", hashlib.sha256, b"secretsecretsecretsecretsecret12"),
    "k2.example.": ("hmac-sha512.", hashlib.sha512,
                    b"other-secret-other-secret-other-secret-64-bytes!"),
}


def tsig_sign(msg, key="k1.", alg=None, secret=None, now=XFR_NOW, fudge=300,
              mac_override=None):
    """msg with a TSIG RR appended (RFC 8945 §4.3: the MAC covers the message as it is
    before the TSIG, then the key name, class ANY, TTL 0, algorithm, times, error and
    other data), ARCOUNT bumped."""
    kalg, digest, ksecret = XFR_KEYS.get(key, ("hmac-sha256.", hashlib.sha256, b"x" * 32))
    alg = alg or kalg
    secret = secret if secret is not None else ksecret
    times = struct.pack(">HIH", now >> 32, now & 0xffffffff, fudge)
    variables = (name(key) + struct.pack(">HI", 255, 0) + name(alg) + times +
                 struct.pack(">HH", 0, 0))
    mac = hmac.new(secret, msg + variables, digest).digest()
    if mac_override is not None:
        mac = mac_override
    rdata = (name(alg) + times + struct.pack(">H", len(mac)) + mac + msg[:2] +
             struct.pack(">HH", 0, 0))
    return add_rr(msg, name(key) + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata)


def add_rr(msg, rr):
    """msg with rr appended to its additional section."""
    ar = struct.unpack(">H", msg[10:12])[0] + 1
    return msg[:10] + struct.pack(">H", ar) + msg[12:] + rr


def xfr_seeds():
    z = ZONE

    def soa_rr(serial):
        return (name(z) + struct.pack(">HHIH", 6, 1, 0, 22) + b"\0\0" +
                struct.pack(">IIIII", serial, 0, 0, 0, 0))

    def ixfr(serial, qid=0x4242, edns=None):
        return query(z, 251, qid=qid, counts=(1, 0, 1, 1 if edns else 0),
                     extra=soa_rr(serial), edns=edns)

    axfr = query(z, 252, qid=0x4242)
    seeds = {
        "axfr": axfr,
        "axfr-edns": query(z, 252, edns=opt()),
        "axfr-upper-rd": query("LB.Example.TEST", 252, flags=0x0100),
        "axfr-k1": tsig_sign(axfr),
        "axfr-k2": tsig_sign(query(z, 252, qid=7), key="k2.example."),
        "axfr-k1-edns": tsig_sign(query(z, 252, edns=opt(4096))),
        "axfr-badsig": tsig_sign(axfr, secret=b"wrong"),
        "axfr-badkey": tsig_sign(axfr, key="nokey."),
        "axfr-badalg": tsig_sign(axfr, alg="hmac-sha512."),
        "axfr-badtime": tsig_sign(axfr, now=XFR_NOW - 3600),
        "axfr-fudge0": tsig_sign(axfr, now=XFR_NOW - 1, fudge=0),
        "axfr-short-mac": tsig_sign(axfr, mac_override=b"\1" * 10),
        "ixfr-current": ixfr(5),
        "ixfr-old": ixfr(2),
        "ixfr-oldest": ixfr(1, edns=opt()),
        "ixfr-unknown": ixfr(0),
        "ixfr-newer": ixfr(1000),
        "ixfr-old-k1": tsig_sign(ixfr(3)),
        "ixfr-old-k2": tsig_sign(ixfr(1), key="k2.example."),
        "ixfr-no-soa": query(z, 251),
        "ixfr-not-soa": query(z, 251, counts=(1, 0, 1, 0),
                              extra=name(z) + struct.pack(">HHIH", 1, 1, 0, 4) + b"\1\2\3\4"),
        "soa-k1": tsig_sign(query(z, 6, flags=0x0100)),
        "soa-k2-edns": tsig_sign(query(z, 6, edns=opt(512)), key="k2.example."),
        "api-k1-udp": tsig_sign(query("api." + z, 1, edns=opt(1232))),
        "txt-badsig": tsig_sign(query("info." + z, 16), secret=b"nope"),
        "response-k1": tsig_sign(query(z, 6, flags=0x8000)),
        "response-badkey": tsig_sign(query(z, 252, flags=0x8400), key="nokey."),
        "tsig-not-last": add_rr(tsig_sign(axfr), opt()),
        "two-tsigs": tsig_sign(tsig_sign(axfr)),
        "tsig-cut": tsig_sign(axfr)[:-9],
        "other-zone": query("example.com", 252),
        "class-ch": query(z, 252, qclass=3),
        "notify-opcode": tsig_sign(query(z, 6, flags=0x2000)),
        "pointer-qname": query(None, qtype=252, counts=(1, 0, 0, 0)) + b"\xc0\x0c\0\xfc\0\1",
        "short-header": b"\x42\x42\x00",
        "header-only": query(None, counts=(0, 0, 0, 0)),
    }
    return seeds


def write(kind, seeds):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith("seed-"):
            os.remove(os.path.join(d, f))
    for key, data in sorted(seeds.items()):
        with open(os.path.join(d, "seed-" + key), "wb") as f:
            f.write(data)
    print(f"{kind}: {len(seeds)} seeds", file=sys.stderr)


KINDS = {
    "answer": answer_seeds,
    "config": config_seeds,
    "jsonpos": jsonpos_seeds,
    "api_request": api_seeds,
    "xfr": xfr_seeds,
}


def main():
    # gen_corpus.py [KIND...]: only those corpora (default: every one)
    kinds = sys.argv[1:] or list(KINDS)
    for kind in kinds:
        if kind not in KINDS:
            sys.exit(f"unknown corpus {kind}; one of {', '.join(KINDS)}")
        write(kind, KINDS[kind]())


if __name__ == "__main__":
    main()
