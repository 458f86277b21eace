#!/usr/bin/env python3
"""Generate a large steerd configuration for bench-monitor.sh and bench-config.sh.

ORIGINS origins in pools of PER_POOL (pool pNNNN, origin oN, address 127.1.X.Y with
X = k // 250, Y = k % 250 + 1), BALANCERS balancers bN failing over from pool N to pool N+1
(modulo the pool count), origin_steering random. With --monitor http every pool uses one
HTTP monitor (GET /healthz on --probe-port every --interval seconds); with --monitor none
no pool has a monitor (every origin counts as healthy, nothing is probed). With
--affinity D:M the config pins the DNS threads to CPU D and the monitor and store writer
threads to CPU M ("affinity": {"dns": [D], "monitor": [M]}).

Also written: addrs.txt (every origin address), expected.txt ("bN addr..." with the
addresses of bN's first pool, the only correct answers while every origin is healthy) and
queries.txt (dnsperf input: QUERIES A queries for random balancer names, fixed seed).

usage: gen_big.py OUTDIR PORT [--origins N] [--per-pool N] [--balancers N]
                  [--monitor http|none] [--interval S] [--probe-port P] [--queries N]
                  [--affinity DNS_CPU:MONITOR_CPU]
"""
import argparse
import json
import os
import random

ZONE = "lb.example.test"


def addr(k):
    return "127.1.%d.%d" % (k // 250, k % 250 + 1)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("port", type=int)
    ap.add_argument("--origins", type=int, default=10000)
    ap.add_argument("--per-pool", type=int, default=10)
    ap.add_argument("--balancers", type=int, default=1000)
    ap.add_argument("--monitor", choices=("http", "none"), default="http")
    ap.add_argument("--interval", type=int, default=10)
    ap.add_argument("--probe-port", type=int, default=8080)
    ap.add_argument("--queries", type=int, default=10000)
    ap.add_argument("--affinity", default=None)
    a = ap.parse_args()
    if a.origins > 250 * 256:
        ap.error("at most 64,000 origins fit in 127.1.0.0/16")
    out = os.path.abspath(a.outdir)
    os.makedirs(os.path.join(out, "pools"), exist_ok=True)
    os.makedirs(os.path.join(out, "monitors"), exist_ok=True)

    n_pools = (a.origins + a.per_pool - 1) // a.per_pool
    pool_addrs = []
    for p in range(n_pools):
        ks = range(p * a.per_pool, min((p + 1) * a.per_pool, a.origins))
        pool = {"name": "p%04d" % p, "origin_steering": "random",
                "origins": [{"name": "o%d" % k, "address": addr(k), "weight": 1} for k in ks]}
        if a.monitor == "http":
            pool["monitor"] = "farm-http"
        pool_addrs.append([addr(k) for k in ks])
        with open(os.path.join(out, "pools", "p%04d.json" % p), "w") as f:
            json.dump(pool, f)
            f.write("\n")
    if a.monitor == "http":
        mon = {"name": "farm-http", "type": "http", "path": "/healthz", "port": a.probe_port,
               "expected_codes": "2xx", "interval": a.interval,
               "timeout": min(5, a.interval), "retries": 1,
               "consecutive_up": 2, "consecutive_down": 2}
        with open(os.path.join(out, "monitors", "farm-http.json"), "w") as f:
            json.dump(mon, f)
            f.write("\n")

    balancers = [{"name": "b%d" % b, "ttl": 30, "steering_policy": "failover",
                  "default_pools": ["p%04d" % (b % n_pools), "p%04d" % ((b + 1) % n_pools)]}
                 for b in range(a.balancers)]
    main_cfg = {
        "listen": ["127.0.0.1:%d" % a.port],
        "zone": {"name": ZONE,
                 "soa": {"mname": "ns1." + ZONE, "rname": "hostmaster.example.test",
                         "serial": 1, "refresh": 3600, "retry": 600, "expire": 604800,
                         "minimum": 60, "ttl": 3600},
                 "ns": ["ns1." + ZONE],
                 "records": ["ns1 3600 IN A 127.0.0.1", "www 300 IN CNAME b0"]},
        "balancers": balancers,
        "pools_dir": "pools", "monitors_dir": "monitors",
        "state": {"path": os.path.join(out, "steerd.db")},
        "identity": "bench", "workers": 1,
    }
    if a.affinity:
        dns, mon = (int(x) for x in a.affinity.split(":"))
        main_cfg["affinity"] = {"dns": [dns], "monitor": [mon]}
    with open(os.path.join(out, "steerd.json"), "w") as f:
        json.dump(main_cfg, f, indent=1)
        f.write("\n")

    with open(os.path.join(out, "addrs.txt"), "w") as f:
        f.write("\n".join(addr(k) for k in range(a.origins)) + "\n")
    with open(os.path.join(out, "expected.txt"), "w") as f:
        for b in range(a.balancers):
            f.write("b%d %s\n" % (b, " ".join(pool_addrs[b % n_pools])))
    rng = random.Random(20261127)
    with open(os.path.join(out, "queries.txt"), "w") as f:
        for _ in range(a.queries):
            f.write("b%d.%s A\n" % (rng.randrange(a.balancers), ZONE))


if __name__ == "__main__":
    main()
