#!/usr/bin/env bash
# `"user"` in steerd.json: started as root, steerd binds DNS and the API on ports below
# 1024 on 127.0.0.13, then runs as a system user made for this test (with a supplementary
# group): /proc/PID/status shows the user's IDs in all four Uid and Gid fields and its
# groups, dig is answered, and the SQLite file and the API token file it creates belong
# to the user. A reload that changes `user` warns and keeps the running one. Failures:
# a user that does not exist is a config error with file:line:col and path; started as
# another unprivileged user, steerd exits 1 with a message; started as the user itself,
# it runs; a step of the drop that fails (initgroups, setuid) stops steerd with the step
# named. Needs root (or `sudo -n`): there is no other way to test dropping root.
source "$(dirname "$0")/as-root.sh" "it tests dropping root"
source "$(dirname "$0")/lib.sh"

BBUSER=steerbb$$
BBGROUP=steerbbx$$
user_cleanup() {
	userdel "$BBUSER" >/dev/null 2>&1 || true
	groupdel "$BBGROUP" >/dev/null 2>&1 || true
}
trap 'rc=$?; stop_steerd; user_cleanup; (exit $rc); cleanup' EXIT
groupadd --system "$BBGROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -G "$BBGROUP" "$BBUSER"
UID_=$(id -u "$BBUSER")
GID_=$(id -g "$BBUSER")
GROUPS_=$(id -G "$BBUSER" | tr ' ' '\n' | sort -n | tr '\n' ' ')

# the user must reach its state folder and read the config (reloads read it as the user)
chmod 711 "$TMP"
mkdir -p "$TMP/src"
cp -r "$STEER_SRC/steerd.json" "$STEER_SRC/pools" "$STEER_SRC/monitors" "$TMP/src/"
make_config "$TMP/src"
mkdir -p "$TMP/state"
chown "$BBUSER:" "$TMP/state"
# two ports below 1024, free for UDP and TCP on 127.0.0.13
read -r PORT APIPORT <<<"$("$PYTHON" - <<'PY'
import random, socket
found = []
ports = list(range(600, 1000))
random.shuffle(ports)
for p in ports:
    try:
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.13", p))
            s.close()
    except OSError:
        continue
    found.append(p)
    if len(found) == 2:
        break
print(*found)
PY
)"
cfg_edit "c['listen'] = ['127.0.0.13:$PORT']; c['api']['listen'] = ['127.0.0.13:$APIPORT']
c['state']['path'] = '$TMP/state/steerd.db'; c['api']['token_file'] = '$TMP/state/api.token'
c['user'] = '$BBUSER'"
chmod -R o+rX "$TMP/cfg"

# q, start_steerd use 127.0.0.1: this test serves 127.0.0.13 only
q13() { dig @127.0.0.13 -p "$PORT" +norec +time=2 +tries=1 "$@"; }
"$STEERD" -c "$CFG" >>"$TMP/steerd.log" 2>&1 &
STEERD_PID=$!
for _ in $(seq 1 100); do
	[[ "$(q13 +short SOA "$ZONE" 2>/dev/null)" == ns1.* ]] && break
	kill -0 "$STEERD_PID" 2>/dev/null || break
	sleep 0.1
done
ask q13 api.lb.example.test A
expect_match "dig answers on 127.0.0.13:$PORT (below 1024)" "$STATUS/$AN" \
	'^NOERROR/api\.lb\.example\.test\. 30 IN A 127\.0\.0\.1[12]$'
status=$(cat "/proc/$STEERD_PID/status" 2>/dev/null || true)
expect_eq "Uid: real, effective, saved, fs" "$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' <<<"$status")" \
	"$UID_ $UID_ $UID_ $UID_"
expect_eq "Gid: real, effective, saved, fs" "$(awk '$1 == "Gid:" {print $2, $3, $4, $5}' <<<"$status")" \
	"$GID_ $GID_ $GID_ $GID_"
expect_eq "Groups: the user's groups" \
	"$(awk '$1 == "Groups:" {$1 = ""; print}' <<<"$status" | tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' ')" \
	"$GROUPS_"
for _ in $(seq 1 50); do
	[ -e "$TMP/state/steerd.db" ] && [ -e "$TMP/state/api.token" ] && break
	sleep 0.1
done
expect_eq "SQLite file owned by the user" "$(stat -c %U:%G "$TMP/state/steerd.db" 2>&1)" \
	"$BBUSER:$(id -gn "$BBUSER")"
expect_eq "API token file owned by the user, mode 600" \
	"$(stat -c %U/%a "$TMP/state/api.token" 2>&1)" "$BBUSER/600"
expect_match "the drop is logged" "$(cat "$TMP/steerd.log")" \
	"info steerd: dropped privileges: user=$BBUSER uid=$UID_ group=$BBUSER gid=$GID_\$"
out=$(curl -s --max-time 5 "http://127.0.0.13:$APIPORT/v1/status" 2>&1 || true)
expect_match "the API answers on 127.0.0.13:$APIPORT (below 1024)" "$out" '"balancers"'

# a reload that changes `user` (the new config is read as the user): warned, not applied
cfg_edit "c['user'] = 'nobody'"
chmod -R o+rX "$TMP/cfg"
kill -HUP "$STEERD_PID"
for _ in $(seq 1 50); do
	grep -q 'reload: "user" or "group" changed' "$TMP/steerd.log" && break
	sleep 0.1
done
expect_match "reload: user change warned" "$(cat "$TMP/steerd.log")" \
	"warn steerd: reload: \"user\" or \"group\" changed; restart steerd to apply it \\(still running as uid=$UID_ gid=$GID_\\)"
expect_eq "still the user after the reload" \
	"$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' "/proc/$STEERD_PID/status" 2>&1)" \
	"$UID_ $UID_ $UID_ $UID_"
check_alive
stop_steerd
check_exit
cfg_edit "c['user'] = '$BBUSER'"
chmod -R o+rX "$TMP/cfg"

# --- a user that does not exist: a config error at its position
cfg_edit "c['user'] = 'no-such-user-$$'"
pos=$(awk -v u="\"no-such-user-$$\"" 'i = index($0, u) { print NR ":" i; exit }' "$CFG")
rc=0
out=$("$STEERD" --check-config -c "$CFG" 2>&1) || rc=$?
expect_eq "missing user: --check-config exits 1" "$rc" 1
expect_match "missing user: file:line:col: path: message" "$out" \
	"^$CFG:$pos: user: no user \"no-such-user-$$\" on this system\$"
rc=0
timeout 10 "$STEERD" -c "$CFG" >"$TMP/nouser.log" 2>&1 || rc=$?
expect_eq "missing user: steerd does not start" "$rc" 1

# --- not root, `user` set to someone else: exit 1 with a message, before binding port
# $PORT (which nobody could not bind); without the API, whose token file is the user's
cfg_edit "c['user'] = '$BBUSER'; del c['api']"
chmod -R o+rX "$TMP/cfg"
rc=0
out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$STEERD" -c "$CFG" 2>&1) || rc=$?
expect_eq "as nobody: exit status 1" "$rc" 1
expect_match "as nobody: the message" "$out" \
	"cannot start: user=$BBUSER is set but steerd runs as uid=$(id -u nobody), not as root"

# --- started as the user itself (a port it may bind): runs, and says so
cfg_edit "c['listen'] = ['127.0.0.13:$(free_port)']"
chmod -R o+rX "$TMP/cfg"
timeout 20 setpriv --reuid="$BBUSER" --regid="$GID_" --init-groups \
	"$STEERD" -c "$CFG" >"$TMP/self.log" 2>&1 &
SELF_PID=$!
for _ in $(seq 1 100); do
	grep -q 'serving zone' "$TMP/self.log" && break
	kill -0 "$SELF_PID" 2>/dev/null || break
	sleep 0.1
done
expect_match "as the user: runs, nothing to drop" "$(cat "$TMP/self.log")" \
	"info steerd: already running as user=$BBUSER uid=$UID_; no privileges to drop"
kill -TERM "$SELF_PID" 2>/dev/null || true
rc=0
wait "$SELF_PID" || rc=$?
expect_eq "as the user: clean exit on SIGTERM" "$rc" 0

# --- a step of the drop fails (root without CAP_SETGID, then without CAP_SETUID: each
# removed from the bounding set, so the exec'd steerd does not have it): exit 1 naming
# the step, before the database is opened, and nothing goes on running as root
mkdir -p "$TMP/state2"
chown "$BBUSER:" "$TMP/state2"
cfg_edit "c['listen'] = ['127.0.0.13:$(free_port)']; c['state']['path'] = '$TMP/state2/steerd.db'"
chmod -R o+rX "$TMP/cfg"
for cap in setgid setuid; do
	step=$([ "$cap" = setgid ] && echo initgroups || echo setuid)
	rc=0
	out=$(timeout 10 setpriv --bounding-set "-$cap" "$STEERD" -c "$CFG" 2>&1) || rc=$?
	expect_eq "without CAP_${cap^^}: exit status 1" "$rc" 1
	expect_match "without CAP_${cap^^}: the failed step named" "$out" \
		"cannot drop privileges to user=$BBUSER: $step: Operation not permitted"
	expect_eq "without CAP_${cap^^}: no database opened" "$(ls -A "$TMP/state2")" ""
done

finish
