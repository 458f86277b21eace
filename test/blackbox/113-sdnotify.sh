#!/usr/bin/env bash
# sd_notify: steerd started with NOTIFY_SOCKET (as systemd does for Type=notify) sends
# READY=1 only once DNS answers (a single dig right after it must get the SOA), then
# RELOADING=1 (with MONOTONIC_USEC) and READY=1 around every reload (SIGHUP, a failed
# SIGHUP, the API's reload), and STOPPING=1 on SIGTERM. Every message comes from steerd's
# own PID (systemd's default NotifyAccess=main drops others) and carries a STATUS= line.
source "$(dirname "$0")/lib.sh"

if [[ $(ldd "$STEERD") != *libsystemd.so* ]]; then
	echo "FAIL: $STEERD is not linked with libsystemd: its sd_notify calls are no-ops" \
		"(install libsystemd-dev, or configure with -DSTEER_SYSTEMD=ON)" >&2
	exit 1
fi

mkdir -p "$TMP/src"
cp -r "$STEER_SRC/steerd.json" "$STEER_SRC/pools" "$STEER_SRC/monitors" "$TMP/src/"
make_config "$TMP/src"

rc=0
STEERD="$STEERD" STEERCTL="$STEERCTL" CFG="$CFG" PORT="$PORT" TMP="$TMP" ZONE="$ZONE" \
	timeout -k 5 120 "$PYTHON" - <<'PY' || rc=$?
import json, os, signal, socket, struct, subprocess, sys, time

STEERD, CFG, PORT, TMP, ZONE = (os.environ[k] for k in ("STEERD", "CFG", "PORT", "TMP", "ZONE"))
fails = 0


def check(name, cond, detail=""):
    global fails
    if cond:
        print(f"ok: {name}")
    else:
        fails += 1
        print(f"FAIL: {name} {detail}", file=sys.stderr)


def mono_us():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def dig_soa():
    """One query, one try: the SOA answer, or '' when steerd does not answer."""
    r = subprocess.run(["dig", "@127.0.0.1", "-p", PORT, "+norec", "+time=2", "+tries=1",
                        "+short", "SOA", ZONE], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


path = os.path.join(TMP, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)


def recv(timeout_s):
    """The next message as a dict (plus '_pid', the sender's PID), or None on timeout."""
    sock.settimeout(timeout_s)
    try:
        data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        return None
    msg = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
    msg["_pid"] = None
    for level, kind, cdata in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            msg["_pid"] = struct.unpack("iII", cdata[:12])[0]
    return msg


def reload_pair(name, trigger, status_re):
    before = mono_us()
    trigger()
    m = recv(20)
    after = mono_us()
    check(f"{name}: RELOADING=1 first", m is not None and m.get("RELOADING") == "1", m)
    if m is not None and "MONOTONIC_USEC" in m:
        usec = int(m["MONOTONIC_USEC"])
        check(f"{name}: MONOTONIC_USEC is CLOCK_MONOTONIC at the reload",
              before <= usec <= after, f"{before} <= {usec} <= {after}")
    else:
        check(f"{name}: MONOTONIC_USEC sent", False, m)
    check(f"{name}: from steerd's pid", m is not None and m["_pid"] == proc.pid, m)
    m = recv(20)
    check(f"{name}: then READY=1", m is not None and m.get("READY") == "1", m)
    st = (m or {}).get("STATUS", "")
    check(f"{name}: status [{st}]", status_re in st, f"expected [{status_re}]")
    check(f"{name}: still answers", dig_soa() != "")


log = open(os.path.join(TMP, "steerd.log"), "ab")
env = dict(os.environ, NOTIFY_SOCKET=path)
proc = subprocess.Popen([STEERD, "-c", CFG], env=env, stdout=log, stderr=subprocess.STDOUT)
try:
    # --- start: the first message is READY=1, and DNS answers at that moment
    m = recv(30)
    answer = dig_soa() if m is not None else ""
    check("start: READY=1 is the first message", m is not None and m.get("READY") == "1", m)
    check("start: a single dig right after READY=1 gets the SOA", answer.startswith("ns1."),
          f"[{answer}]")
    check("start: from steerd's pid", m is not None and m["_pid"] == proc.pid, m)
    st = (m or {}).get("STATUS", "")
    check(f"start: status [{st}]", st.startswith(f"serving zone {ZONE}.: 3 balancers"))

    # --- SIGHUP: RELOADING=1, then READY=1
    reload_pair("SIGHUP", lambda: proc.send_signal(signal.SIGHUP), "serving zone")

    # --- a failed reload is still bracketed, and the status says so
    pool = os.path.join(TMP, "cfg", "pools", "homelab.json")
    good = open(pool).read()
    with open(pool, "w") as f:
        f.write("{")
    reload_pair("failed SIGHUP", lambda: proc.send_signal(signal.SIGHUP), "last reload failed")
    with open(pool, "w") as f:
        f.write(good)

    # --- the API's reload (another thread of steerd) does the same
    api = json.load(open(CFG))["api"]["listen"][0]
    ctl = [os.environ["STEERCTL"], "--api", api, "--token-file",
           os.path.join(TMP, "cfg", "api.token"), "reload"]
    reload_pair("API reload", lambda: subprocess.run(ctl, capture_output=True, timeout=20),
                "serving zone")

    # --- SIGTERM: STOPPING=1, nothing after it, a clean exit
    proc.send_signal(signal.SIGTERM)
    m = recv(20)
    check("SIGTERM: STOPPING=1", m is not None and m.get("STOPPING") == "1", m)
    check("SIGTERM: from steerd's pid", m is not None and m["_pid"] == proc.pid, m)
    rc = proc.wait(timeout=20)
    check("SIGTERM: exit status 0", rc == 0, rc)
    m = recv(0.2)
    check("nothing after STOPPING=1", m is None, m)
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
sys.exit(1 if fails else 0)
PY
if [ "$rc" -ne 0 ]; then
	fail "sd_notify checks (python exit $rc)"
fi
finish
