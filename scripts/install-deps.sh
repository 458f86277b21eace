#!/usr/bin/env bash
# Install every build and test dependency of Steer from Debian packages. Idempotent:
# packages already present are not downloaded again.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
	libldns-dev libevent-dev libcurl4-openssl-dev libjansson-dev libsqlite3-dev
	libcmocka-dev
	bind9-dnsutils knot knot-dnsutils ldnsutils sqlite3 openssl curl python3 iproute2 procps
	prometheus chromium python3-aiosmtpd fonts-dejavu-core
	nsd unbound libsystemd-dev debhelper
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
