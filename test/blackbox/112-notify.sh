#!/usr/bin/env bash
# Notifications against real receivers on loopback: a webhook receiver that checks the
# HMAC signature (notify_receiver.py), an SMTP server (aiosmtpd, notify_smtp.py), an exec
# script (notify_exec.sh), and one receiver taking the slack, discord, ntfy and gotify
# formats. Origins fail and heal; then the webhook receiver is killed, origins change
# again, steerd restarts, the receiver comes back: every event reaches every target
# exactly once, in outbox order, and matches GET /v1/events. `steerctl notify test`
# reports a delivered test event, and a dead receiver's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/health-lib.sh"
source "$(dirname "$0")/api-lib.sh"

declare -A RCV_PID=()

# start_rcv NAME CMD...: a receiver in the background; waits (10 s) for "listening".
start_rcv() {
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	RCV_PID[$name]=$!
	for _ in $(seq 1 100); do
		grep -q '^listening' "$TMP/$name.log" 2>/dev/null && return 0
		kill -0 "${RCV_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/$name.log" >&2
	echo "receiver $name did not start" >&2
	exit 1
}

stop_rcv() {
	local pid=${RCV_PID[$1]:-}
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	RCV_PID[$1]=
}

notify_cleanup() {
	local rc=$? name
	for name in "${!RCV_PID[@]}"; do
		stop_rcv "$name"
	done
	(exit "$rc")
	api_cleanup
}
trap notify_cleanup EXIT

HPORT=$(origin_port 127.0.0.1)
CPORT=$(origin_port 127.0.0.1)
SPORT=$(origin_port 127.0.0.1)
BB=$STEER_SRC/test/blackbox
hook() {
	start_rcv hook "$PYTHON" "$BB/notify_receiver.py" --listen "127.0.0.1:$HPORT" \
		--out "$TMP/hook.jsonl" --secret "$TMP/cfg/hook.secret"
}

mkdir -p "$TMP/keep"
printf 'a-webhook-secret-0123456789\n' >"$TMP/keep/hook.secret"
printf 'gotify-token-1\n' >"$TMP/keep/gotify.token"
chmod 600 "$TMP/keep/"*
NOTIFY="c['notifications'] = [
 {'name': 'hook', 'type': 'webhook', 'url': 'http://127.0.0.1:$HPORT/steer',
  'secret_file': 'hook.secret', 'events': ['origin', 'pool', 'balancer'],
  'coalesce': 1, 'retry_max': 1, 'timeout': 2},
 {'name': 'mail', 'type': 'email', 'url': 'smtp://127.0.0.1:$SPORT',
  'from': 'steerd@example.test', 'to': ['ops@example.test', 'oncall@example.test'],
  'coalesce': 1, 'retry_max': 1},
 {'name': 'run', 'type': 'exec', 'command': ['$BB/notify_exec.sh', '$TMP/exec.jsonl'],
  'coalesce': 1, 'retry_max': 1, 'timeout': 5},
 {'name': 'slack', 'type': 'slack', 'url': 'http://127.0.0.1:$CPORT/slack',
  'events': ['balancer'], 'coalesce': 0},
 {'name': 'discord', 'type': 'discord', 'url': 'http://127.0.0.1:$CPORT/discord',
  'events': ['balancer'], 'coalesce': 0},
 {'name': 'ntfy', 'type': 'ntfy', 'url': 'http://127.0.0.1:$CPORT/ntfy',
  'events': ['balancer'], 'coalesce': 0},
 {'name': 'gotify', 'type': 'gotify', 'url': 'http://127.0.0.1:$CPORT/gotify',
  'token_file': 'gotify.token', 'events': ['balancer'], 'coalesce': 0}]"

# start_api_trio copies the config afresh: the secrets go in before steerd starts
start_api_trio "$NOTIFY; import shutil; [shutil.copy2('$TMP/keep/' + f, '$TMP/cfg/' + f) for f in ('hook.secret', 'gotify.token')]"
hook
start_rcv chat "$PYTHON" "$BB/notify_receiver.py" --listen "127.0.0.1:$CPORT" \
	--out "$TMP/chat.jsonl"
start_rcv smtp "$PYTHON" "$BB/notify_smtp.py" --listen "127.0.0.1:$SPORT" \
	--out "$TMP/mail.jsonl"
wait_for "all three origins up" "ctl status --json | jq_py \"sum(o['state'] == 'up' for p in d['pools'] for o in p['origins'])\"" '^3$'

# --- steerctl notify test
out=$(ctl notify test hook 2>&1) || true
expect_match "notify test hook: delivered" "$out" '^hook \(webhook\): test event [0-9]+ delivered$'
expect_match "the receiver got the test event, signed" "$(tail -n 1 "$TMP/hook.jsonl")" \
	'sent by steerctl notify test.*"sig_ok": true'
out=$(ctl notify test nope 2>&1) && rc=0 || rc=$?
expect_eq "notify test nope: exit 1" "$rc" 1
expect_match "notify test nope: no such notification" "$out" 'no notification named "nope"'

# --- an origin pair fails: every target hears of the pool and the balancer
stop_origin p1
stop_origin p2
wait_for "api fails over" "ans api" '^NOERROR 5 127\.0\.0\.21$'
wait_for "exec target ran" "grep -c 'failover:secondary' $TMP/exec.jsonl" '^[1-9]'
wait_for "mail arrived" "grep -c 'primary' $TMP/mail.jsonl" '^[1-9]'
wait_for "webhook got the balancer event" "grep -c 'failover:secondary' $TMP/hook.jsonl" '^[1-9]'
wait_for "chat formats arrived" "cut -c1-20 $TMP/chat.jsonl | sort -u | wc -l" '^4$'

# --- the webhook receiver dies; origins change; steerd restarts; the receiver returns
stop_rcv hook
restart_origin p1
restart_origin p2
wait_for "api back on the primary" "ans api" '^NOERROR 30 127\.0\.0\.11 127\.0\.0\.12$'
stop_origin s1
wait_for "s1 down" "ctl status --json | jq_py \"[o['state'] for p in d['pools'] for o in p['origins'] if o['name'] == 's1'][0]\"" '^down$'
wait_for "hook delivery failing (logged)" "log_count 'target=hook delivery failed'" '^[1-9]'
restart_steerd
wait_api
restart_origin s1
wait_for "s1 up again" "ctl status --json | jq_py \"[o['state'] for p in d['pools'] for o in p['origins'] if o['name'] == 's1'][0]\"" '^up$'
hook
wait_for "hook caught up with the outbox" \
	"sql \"select (select delivered_id from notify_targets where name = 'hook') >= (select max(id) from notify_outbox where kind & 7 <> 0)\"" '^1$'
for t in mail run; do
	wait_for "$t caught up with the outbox" \
		"sql \"select (select delivered_id from notify_targets where name = '$t') >= (select max(id) from notify_outbox where kind & 6 <> 0)\"" '^1$'
done

# --- every event exactly once, in order, and the same as GET /v1/events
curl -s --max-time 10 "$API/v1/events?limit=1000" >"$TMP/events.json"
sql "select id, kind, target from notify_outbox order by id" >"$TMP/outbox.txt"
PYTHONPATH= "$PYTHON" - "$TMP" <<'PY' && ok "exactly once, in order, matching /v1/events" || fail "exactly-once check"
import json, sys
tmp = sys.argv[1]
outbox = [l.split("|") for l in open(tmp + "/outbox.txt").read().split()]
api = json.load(open(tmp + "/events.json"))["events"]

def expand(doc):
    return doc["events"] if doc.get("event") == "digest" else [doc]

def key(e):
    name = e.get("balancer") or (e["pool"] + "/" + e["origin"] if e.get("origin") else e["pool"])
    return (e["time_ms"], e["event"] if "event" in e else e["kind"], name, e.get("from") or "", e["to"])

def check(target, docs, mask):
    evs = [e for d in docs for e in expand(d) if e["event"] != "test"]
    ids = [e["id"] for e in evs]
    want = [int(i) for i, k, t in outbox if int(k) & mask and t == ""]
    first = want.index(ids[0]) if ids and ids[0] in want else 0
    assert ids == want[first:], (target, ids, want)
    kinds = {1: "origin", 2: "pool", 4: "balancer"}
    names = [kinds[b] for b in kinds if mask & b]
    api_keys = sorted(key(e) for e in api if e["kind"] in names and e["time_ms"] >= evs[0]["time_ms"])
    assert sorted(key(e) for e in evs) == api_keys, (target, sorted(key(e) for e in evs), api_keys)
    assert [e["time_ms"] for e in evs] == sorted(e["time_ms"] for e in evs), target
    print("ok: %s: %d events, ids %d..%d, no gap, no duplicate" % (target, len(evs), ids[0], ids[-1]))

hook = [json.loads(l) for l in open(tmp + "/hook.jsonl")]
assert all(r["sig_ok"] for r in hook), "a webhook signature did not verify"
ids = [int(r["headers"]["X-Steer-Id"]) for r in hook]
assert ids == sorted(set(ids)), ("webhook message ids", ids)
check("hook", [json.loads(r["body"]) for r in hook], 7)
run = [json.loads(l) for l in open(tmp + "/exec.jsonl")]
assert all(r["nenv"] <= 24 for r in run), "exec environment is not minimal"
check("run", [r["stdin"] for r in run], 6)
mails = [json.loads(l) for l in open(tmp + "/mail.jsonl")]
assert all(m["to"] == ["ops@example.test", "oncall@example.test"] for m in mails)
mids = [m["message_id"] for m in mails]
assert len(mids) == len(set(mids)), ("a mail came twice", mids)
assert any("api: primary → secondary" in m["text"] for m in mails), "mail text"
print("ok: mail: %d messages, subjects like %r" % (len(mails), mails[-1]["subject"]))
chat = [json.loads(l) for l in open(tmp + "/chat.jsonl")]
by = {}
for r in chat:
    by.setdefault(r["path"], []).append(r)
line = "api: primary → secondary (pool health changed)"
assert any(json.loads(r["body"])["text"] == line for r in by["/slack"]), by["/slack"]
assert any(json.loads(r["body"])["content"] == line for r in by["/discord"]), by["/discord"]
assert any(r["body"] == line and r["headers"]["Title"] == "steer event" for r in by["/ntfy"])
g = [json.loads(r["body"]) for r in by["/gotify"] if r["headers"].get("X-Gotify-Key") == "gotify-token-1"]
assert any(d["message"] == line and d["title"] == "steer: " + line and d["priority"] == 5 for d in g), g
print("ok: slack, discord, ntfy and gotify formats")
PY

# --- a dead receiver: notify test says so and exits 1
stop_rcv chat
out=$(ctl notify test slack 2>&1) && rc=0 || rc=$?
expect_eq "notify test to a dead receiver: exit 1" "$rc" 1
expect_match "notify test to a dead receiver: why" "$out" \
	'^slack \(slack\): test event [0-9]+ not delivered yet: .*(refused|Couldn).*retrying'

# --- deliveries in /metrics: the exposition stays valid, the counts are the receivers'
curl -s --max-time 10 "$API/metrics" >"$TMP/metrics.txt"
expect_eq "metrics with notifications: promtool check metrics" \
	"$(promtool check metrics <"$TMP/metrics.txt" 2>&1 && echo ok)" "ok"
expect_match "metrics: events delivered to the webhook counted" "$(cat "$TMP/metrics.txt")" \
	'^steer_notifications_sent_total\{target="hook",type="webhook"\} [1-9][0-9]*$'
expect_match "metrics: failed attempts to the dead receiver counted" \
	"$(cat "$TMP/metrics.txt")" \
	'^steer_notifications_failed_total\{target="slack",type="slack"\} [1-9][0-9]*$'
finish
