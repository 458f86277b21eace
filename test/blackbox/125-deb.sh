#!/usr/bin/env bash
# The Debian package: scripts/build-deb.sh builds it; `dpkg -i` puts steerd, steerctl,
# the example configuration (conffiles), the docs and the unit in place and creates the
# steer system user and the API token; the installed steerd serves a copy of the
# installed configuration on a test port; `dpkg --purge` removes it all again. Installs
# system-wide, so it needs root (or sudo -n), runs one at a time (a lock), and refuses to
# run over a steer package or /etc/steer that is already there.
source "$(dirname "$0")/lib.sh"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if sudo -n true 2>/dev/null; then
		SUDO="sudo -n"
	else
		echo "FAIL: 125-deb installs a package: run it as root or with passwordless sudo" >&2
		exit 1
	fi
fi

exec 9>"${TMPDIR:-/tmp}/steer-125-deb.lock"
if ! flock -w 300 9; then
	echo "FAIL: another 125-deb still runs after 300 s" >&2
	exit 1
fi
if dpkg-query -W -f='${Status}' steer 2>/dev/null | grep -q 'installed'; then
	echo "FAIL: the steer package is already installed: dpkg --purge steer first" >&2
	exit 1
fi
for p in /etc/steer /usr/bin/steerd /usr/bin/steerctl; do
	if [ -e "$p" ]; then
		echo "FAIL: $p exists (not from the package): remove it first" >&2
		exit 1
	fi
done
had_user=$(getent passwd steer >/dev/null && echo yes || echo no)
installed=no

# purge what the test installed, and the user if the test created it
deb_cleanup() {
	if [ "$installed" = yes ]; then
		$SUDO dpkg --purge steer >>"$TMP/dpkg.log" 2>&1 || true
	fi
	if [ "$had_user" = no ] && getent passwd steer >/dev/null; then
		$SUDO deluser --quiet --system steer >/dev/null 2>&1 || true
	fi
	if [ "$had_user" = no ] && getent group steer >/dev/null; then
		$SUDO delgroup --quiet --system steer >/dev/null 2>&1 || true
	fi
}
trap 'rc=$?; stop_steerd; deb_cleanup; (exit $rc); cleanup' EXIT

# --- build
rc=0
"$STEER_SRC/scripts/build-deb.sh" "$TMP/debs" >"$TMP/build.log" 2>&1 || rc=$?
deb=$(ls "$TMP"/debs/steer_*.deb 2>/dev/null | head -n 1)
if [ "$rc" -ne 0 ] || [ -z "$deb" ]; then
	tail -n 40 "$TMP/build.log" >&2
	echo "FAIL: scripts/build-deb.sh failed (exit $rc)" >&2
	exit 1
fi
ok "build-deb.sh: $(basename "$deb")"
expect_eq "conffiles: the whole configuration" "$(dpkg-deb -I "$deb" conffiles | sort | tr '\n' ' ')" \
	"/etc/steer/monitors/api-health.json /etc/steer/monitors/parents-tcp.json $(:
	)/etc/steer/pools/cloud-tunnel.json /etc/steer/pools/homelab.json $(:
	)/etc/steer/pools/parents.json /etc/steer/steerd.json "

# --- install
installed=yes
rc=0
$SUDO dpkg -i "$deb" >"$TMP/dpkg.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
	cat "$TMP/dpkg.log" >&2
	echo "FAIL: dpkg -i exited $rc" >&2
	exit 1
fi
ok "dpkg -i"
for f in /usr/bin/steerd /usr/bin/steerctl; do
	expect_eq "installed: $f" "$([ -x "$f" ] && echo x)" x
done
for f in /etc/steer/steerd.json /etc/steer/pools/homelab.json /etc/steer/monitors/api-health.json \
	/lib/systemd/system/steerd.service /usr/share/doc/steer/copyright; do
	expect_eq "installed: $f" "$([ -f "$f" ] && echo f)" f
done
expect_eq "installed: README" "$(ls /usr/share/doc/steer/README.md* 2>/dev/null | wc -l)" 1
expect_match "steer is a system user" "$(getent passwd steer)" '^steer:x:[0-9]{1,3}:'
expect_match "steer group" "$(getent group steer)" '^steer:x:'
expect_eq "api token: steer's, mode 600" "$(stat -c '%U:%G %a' /etc/steer/api.token)" "steer:steer 600"
expect_eq "unit: ExecStart" "$(grep '^ExecStart=' /lib/systemd/system/steerd.service)" \
	"ExecStart=/usr/bin/steerd -c /etc/steer/steerd.json"
rc=0
err=$(systemd-analyze verify /lib/systemd/system/steerd.service 2>&1 >/dev/null) || rc=$?
expect_eq "systemd-analyze verify of the installed unit" "$rc:$err" "0:"
# the service's user can read the whole configuration, token included
rc=0
out=$(runuser -u steer -- /usr/bin/steerd --check-config -c /etc/steer/steerd.json 2>&1) || rc=$?
expect_eq "as steer: --check-config of /etc/steer" "$rc:$out" "0:configuration ok"

# --- the installed steerd serves a copy of the installed configuration on a test port
make_config /etc/steer
cfg_edit "c[\"state\"][\"path\"] = \"$TMP/steerd.db\""
STEERD=/usr/bin/steerd
start_steerd
ask q api.lb.example.test A
expect_eq "installed steerd: api A, status" "$STATUS" NOERROR
expect_match "installed steerd: api A, an origin" "$AN" '^api\.lb\.example\.test\. [0-9]+ IN A 127\.0\.0\.'

api=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["api"]["listen"][0])' "$CFG")
out=$(/usr/bin/steerctl --api "$api" --token-file "$TMP/cfg/api.token" status 2>&1) || true
expect_match "installed steerctl: status" "$out" '^zone lb\.example\.test\., steerd '
check_alive
stop_steerd
check_exit

# --- purge
rc=0
$SUDO dpkg --purge steer >>"$TMP/dpkg.log" 2>&1 || rc=$?
expect_eq "dpkg --purge: exit status" "$rc" 0
installed=no
for p in /usr/bin/steerd /usr/bin/steerctl /etc/steer /lib/systemd/system/steerd.service \
	/usr/share/doc/steer /var/lib/steer; do
	expect_eq "purged: $p" "$([ -e "$p" ] && echo present || echo gone)" gone
done
expect_no_match "purged: package state" "$(dpkg-query -W -f='${Status}' steer 2>&1 || true)" \
	'(ok installed|config-files)$'
finish
