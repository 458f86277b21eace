#!/usr/bin/env bash
# `log` in steerd.json: "format": "json" writes one JSON object per line (time, level,
# source, msg, and the message's key=value facts as fields, quoted values unquoted);
# "level" filters; both apply at start and again at a reload; -v still forces debug.
# Invalid values are rejected with their position.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
# probes every second to a port nothing listens on: a debug line per probe, with facts
# like reason="connect refused", and warn lines as origins go down
make_config "$STEER_SRC/test/data/health/failover"
mon_ports "$(origin_port 127.0.0.11 127.0.0.21)"

# --- invalid values
cp -r "$TMP/cfg" "$TMP/bad"
json_edit "$TMP/bad/steerd.json" 'c["log"] = {"level": "loud", "format": "xml", "colour": 1}'
rc=0
out=$("$STEERD" --check-config -c "$TMP/bad/steerd.json" 2>&1) || rc=$?
expect_eq "invalid log settings: exit status" "$rc" 1
expect_match "log.level: position and the choices" "$out" \
	'steerd\.json:[0-9]+:[0-9]+: log\.level: must be one of "debug", "info", "notice", "warn", "err"$'
expect_match "log.format: position and the choices" "$out" \
	'steerd\.json:[0-9]+:[0-9]+: log\.format: must be one of "text", "json"$'
expect_match "log: unknown key" "$out" 'steerd\.json:[0-9]+:[0-9]+: log\.colour: unknown key$'

# --- json and debug from the start: every probe is a debug line with key=value facts
cfg_edit 'c["log"] = {"level": "debug", "format": "json"}'
start_steerd
expect_log "a probe's debug line, as JSON" '^\{"time":.*"level":"debug".*"reason":'
cp "$TMP/steerd.log" "$TMP/json.log"
JSON_LOG=$TMP/json.log py_check "every line is a JSON object with time, level, source, msg and the facts" <<'PY'
import json, os, re, sys
ok = True
docs = []
for n, line in enumerate(open(os.environ["JSON_LOG"], encoding="utf-8").read().splitlines(), 1):
    try:
        d = json.loads(line)
    except ValueError as e:
        print("FAIL: line %d is not JSON (%s): %s" % (n, e, line))
        ok = False
        continue
    docs.append(d)
    if not (isinstance(d, dict)
            and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", d.get("time", ""))
            and d.get("level") in ("debug", "info", "notice", "warn", "err")
            and d.get("source") and isinstance(d.get("msg"), str)):
        print("FAIL: line %d lacks time/level/source/msg: %s" % (n, line))
        ok = False
probe = [d for d in docs if d["level"] == "debug" and "reason" in d and "pool" in d]
if not probe:
    print("FAIL: no probe line with pool and reason fields")
    sys.exit(1)
p = probe[0]
for k in ("pool", "origin", "addr", "ok", "attempts", "reason"):
    if k not in p:
        print("FAIL: probe line lacks %s: %s" % (k, p))
        ok = False
# every fact of the message is a field, a quoted value without its quotes
facts = re.findall(r'(?:^| )([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ ]*)', p["msg"])
for k, v in facts:
    want = re.sub(r"\\(.)", r"\1", v[1:-1]) if v.startswith('"') else v
    if p.get(k) != want:
        print("FAIL: field %s is %r, the message says %r: %s" % (k, p.get(k), want, p))
        ok = False
if p.get("reason") != "connect refused" or len(facts) < 8:
    print("FAIL: the quoted reason, and 8 facts: %s" % p)
    ok = False
print("ok: %d JSON lines, e.g. %s" % (len(docs), json.dumps(p)))
sys.exit(0 if ok else 1)
PY

# --- a reload applies new settings: text, notice and above
cfg_edit 'c["log"] = {"level": "notice", "format": "text"}'
kill -HUP "$STEERD_PID"
expect_log "after the reload: text lines" '^[0-9TZ:.-]+ notice steerd: reloaded .*steerd\.json'
kill -USR1 "$STEERD_PID"
expect_log "after the reload: the stats line is text too" '^[0-9TZ:.-]+ notice steerd: stats: '
check_alive

# --- -v forces debug whatever log.level says (here err)
cfg_edit 'c["log"] = {"level": "err", "format": "json"}'
restart_steerd -v
expect_log "-v with level err: debug lines (JSON)" '^\{"time":[^}]*"level":"debug"'
finish
