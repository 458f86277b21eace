#!/usr/bin/env bash
# `cmake --install`: steerd and steerctl in PREFIX/bin, the example configuration in
# SYSCONFDIR/steer (its database in /var/lib/steer, where the unit's StateDirectory is)
# and never over an existing one, the docs in share/doc/steer, and the systemd unit in
# lib/systemd/system with the prefix's paths; `systemd-analyze verify` finds nothing to
# say about it. DESTDIR with prefix /usr gives the unit exactly as in scripts/.
source "$(dirname "$0")/lib.sh"

BUILD=$(dirname "$STEERD")
R=$TMP/root

# expect_file NAME PATH [test-op]: PATH exists (and passes `test -x` etc.)
expect_file() {
	if [ -e "$2" ] && test "${3:--e}" "$2"; then
		ok "$1"
	else
		fail "$1: $2 missing"
	fi
}

rc=0
out=$(cmake --install "$BUILD" --prefix "$R" 2>&1) || rc=$?
expect_eq "cmake --install --prefix: exit status" "$rc" 0
expect_file "bin/steerd" "$R/bin/steerd" -x
expect_file "bin/steerctl" "$R/bin/steerctl" -x
expect_file "etc/steer/steerd.json" "$R/etc/steer/steerd.json"
expect_file "etc/steer/pools/" "$R/etc/steer/pools/homelab.json"
expect_file "etc/steer/monitors/" "$R/etc/steer/monitors/api-health.json"
expect_file "share/doc/steer/README.md" "$R/share/doc/steer/README.md"
expect_file "module docs" "$R/share/doc/steer/lib/daemon/README.md"
unit=$R/lib/systemd/system/steerd.service
expect_file "lib/systemd/system/steerd.service" "$unit"
expect_eq "installed steerd is the build's" "$(cmp "$R/bin/steerd" "$STEERD" && echo same)" same

# --- the installed configuration: valid, and its database outside /etc
rc=0
out=$("$R/bin/steerd" --check-config -c "$R/etc/steer/steerd.json" 2>&1) || rc=$?
expect_eq "installed config: --check-config" "$rc:$out" "0:configuration ok"
expect_eq "installed config: state.path in the unit's StateDirectory" \
	"$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["state"]["path"])' \
		"$R/etc/steer/steerd.json")" /var/lib/steer/steerd.db

# --- the unit: the prefix's paths, and systemd-analyze has no complaint
expect_eq "unit: ExecStart" "$(grep '^ExecStart=' "$unit")" \
	"ExecStart=$R/bin/steerd -c $R/etc/steer/steerd.json"
for kv in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' User=steer StateDirectory=steer \
	ConfigurationDirectory=steer ProtectSystem=strict \
	AmbientCapabilities=CAP_NET_BIND_SERVICE; do
	expect_eq "unit: $kv" "$(grep -cxF "$kv" "$unit")" 1
done
rc=0
err=$(systemd-analyze verify "$unit" 2>&1 >/dev/null) || rc=$?
expect_eq "systemd-analyze verify: exit status" "$rc" 0
expect_eq "systemd-analyze verify: nothing on stderr" "$err" ""

# --- a second install keeps an operator's configuration whole
echo '{"edited": true}' >"$R/etc/steer/steerd.json"
rm "$R/etc/steer/pools/homelab.json"
rc=0
out=$(cmake --install "$BUILD" --prefix "$R" 2>&1) || rc=$?
expect_eq "second install: exit status" "$rc" 0
expect_eq "second install: steerd.json kept" "$(cat "$R/etc/steer/steerd.json")" \
	'{"edited": true}'
expect_eq "second install: no example pool added back" \
	"$([ -e "$R/etc/steer/pools/homelab.json" ] && echo added || echo absent)" absent
expect_match "second install: says so" "$out" "Keeping: $R/etc/steer"

# --- DESTDIR with prefix /usr: /etc/steer, /usr/bin, the unit exactly as in scripts/
rc=0
out=$(DESTDIR=$TMP/dest cmake --install "$BUILD" --prefix /usr 2>&1) || rc=$?
expect_eq "DESTDIR install: exit status" "$rc" 0
expect_file "DESTDIR: usr/bin/steerd" "$TMP/dest/usr/bin/steerd" -x
expect_file "DESTDIR: etc/steer/steerd.json" "$TMP/dest/etc/steer/steerd.json"
expect_file "DESTDIR: usr/share/doc/steer/README.md" "$TMP/dest/usr/share/doc/steer/README.md"
expect_eq "DESTDIR: the unit is scripts/steerd.service" \
	"$(cmp "$TMP/dest/usr/lib/systemd/system/steerd.service" \
		"$STEER_SRC/scripts/steerd.service" && echo same)" same
expect_eq "DESTDIR: nothing outside DESTDIR" "$(find "$TMP/dest" -maxdepth 1 | sort | tr '\n' ' ')" \
	"$TMP/dest $TMP/dest/etc $TMP/dest/usr "
finish
