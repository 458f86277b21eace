#!/usr/bin/env python3
"""Generate the same zone for steerd, gdnsd and NSD, and the query mix, for bench-dns.sh.

Zone lb.example.test: SOA, NS ns1/ns2, ns1/ns2/www A, 100 static names s0..s99 A, an apex
TXT, and the load-balanced name "api" (A and AAAA):
  steerd  balancer, failover over pools bench-a then bench-b, origin_steering random,
          pools without monitors (no probing)
  gdnsd   api DYNA metafo!api: failover over two multifo groups, service type "up"
  NSD     plain RRsets (two A, two AAAA)

  steerd-nowait  the steerd config with udp.batch_wait_us 0 (no batch pacing), on its
          own port, to show what pacing changes

Query mix (QUERIES lines, shuffled with a fixed seed): 60 % api A, 5 % api AAAA,
20 % static A, 10 % NXDOMAIN, 5 % apex TXT. queries-static.txt: static A names only
(the 102 names every server serves from plain RRsets), for the comparison with NSD.

usage: gen_dns.py OUTDIR STEERD_PORT GDNSD_PORT NSD_PORT NOWAIT_PORT [QUERIES]
"""
import json
import os
import random
import sys

ZONE = "lb.example.test"
HERE = os.path.dirname(os.path.abspath(__file__))

POOL_A = [("lab-a", "127.0.0.11"), ("lab-b", "127.0.0.12"),
          ("lab-a6", "2001:db8::11"), ("lab-b6", "2001:db8::12")]
POOL_B = [("backup-a", "127.0.0.21"), ("backup-b", "127.0.0.22"),
          ("backup-a6", "2001:db8::21"), ("backup-b6", "2001:db8::22")]

SOA = {"mname": "ns1." + ZONE, "rname": "hostmaster.example.test", "serial": 1,
       "refresh": 3600, "retry": 600, "expire": 604800, "minimum": 60, "ttl": 3600}


def static_records():
    rr = ["ns1 3600 IN A 127.0.0.1", "ns2 3600 IN A 127.0.0.1",
          "www 300 IN A 127.0.0.80", '@ 300 IN TXT "steer benchmark zone"']
    rr += ["s%d 300 IN A 10.1.%d.%d" % (i, i // 250, i % 250 + 1) for i in range(100)]
    return rr


def apex_records():
    return ["@ 3600 IN SOA %s. %s. %d %d %d %d %d" % (
        SOA["mname"], SOA["rname"], SOA["serial"], SOA["refresh"], SOA["retry"],
        SOA["expire"], SOA["minimum"]),
        "@ 3600 IN NS ns1.%s." % ZONE, "@ 3600 IN NS ns2.%s." % ZONE]


def zone_text(records):
    return "$ORIGIN %s.\n$TTL 3600\n%s\n" % (ZONE, "\n".join(records))


def render(template, out, values):
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace("@%s@" % k, str(v))
    with open(out, "w") as f:
        f.write(text)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def gen_steerd(d, port, udp_wait=None):
    write(os.path.join(d, "static.zone"), zone_text(static_records()))
    main = {
        "listen": ["127.0.0.1:%d" % port],
        "zone": {"name": ZONE, "soa": SOA, "ns": ["ns1." + ZONE, "ns2." + ZONE],
                 "zone_file": os.path.join(d, "static.zone")},
        "balancers": [{"name": "api", "ttl": 30, "steering_policy": "failover",
                       "default_pools": ["bench-a", "bench-b"]}],
        "pools_dir": "pools", "monitors_dir": "monitors",
        "state": {"path": os.path.join(d, "steerd.db")},
        "identity": "bench", "workers": 1,
    }
    if udp_wait is not None:
        main["udp"] = {"batch_wait_us": udp_wait}
    write(os.path.join(d, "steerd.json"), json.dumps(main, indent=1) + "\n")
    os.makedirs(os.path.join(d, "monitors"), exist_ok=True)
    for name, origins in (("bench-a", POOL_A), ("bench-b", POOL_B)):
        pool = {"name": name, "origin_steering": "random",
                "origins": [{"name": n, "address": a, "weight": 1} for n, a in origins]}
        write(os.path.join(d, "pools", name + ".json"), json.dumps(pool) + "\n")


def gen_gdnsd(d, port):
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    os.makedirs(os.path.join(d, "zones"), exist_ok=True)
    render("gdnsd.config.in", os.path.join(d, "config"), {"DIR": d, "PORT": port})
    rr = apex_records() + static_records() + ["api 30 DYNA metafo!api"]
    write(os.path.join(d, "zones", ZONE), zone_text(rr))


def gen_nsd(d, port):
    os.makedirs(d, exist_ok=True)
    render("nsd.conf.in", os.path.join(d, "nsd.conf"), {"DIR": d, "PORT": port})
    rr = apex_records() + static_records()
    rr += ["api 30 IN %s %s" % ("AAAA" if ":" in a else "A", a) for _, a in POOL_A]
    write(os.path.join(d, ZONE + ".zone"), zone_text(rr))


def static_queries(n):
    static = ["www", "ns1"] + ["s%d" % i for i in range(100)]
    return ["%s.%s A" % (static[i % len(static)], ZONE) for i in range(n)]


def gen_queries(path, n):
    rng = random.Random(20261127)
    q = []
    q += ["api.%s A" % ZONE] * (n * 60 // 100)
    q += ["api.%s AAAA" % ZONE] * (n * 5 // 100)
    q += static_queries(n * 20 // 100)
    q += ["nx%d.%s A" % (rng.randrange(1000000), ZONE) for _ in range(n * 10 // 100)]
    q += ["%s TXT" % ZONE] * (n - len(q))
    rng.shuffle(q)
    write(path, "\n".join(q) + "\n")


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    ports = [int(p) for p in sys.argv[2:6]]
    n = int(sys.argv[6]) if len(sys.argv) == 7 else 10000
    gen_steerd(os.path.join(out, "steerd"), ports[0])
    gen_gdnsd(os.path.join(out, "gdnsd"), ports[1])
    gen_nsd(os.path.join(out, "nsd"), ports[2])
    gen_steerd(os.path.join(out, "steerd-nowait"), ports[3], udp_wait=0)
    gen_queries(os.path.join(out, "queries.txt"), n)
    rng = random.Random(20261127)
    static = static_queries(n)
    rng.shuffle(static)
    write(os.path.join(out, "queries-static.txt"), "\n".join(static) + "\n")


if __name__ == "__main__":
    main()
