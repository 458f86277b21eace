#!/usr/bin/env bash
# Sourced first by a test that needs root, with the reason as its argument:
#   source "$(dirname "$0")/as-root.sh" "it makes a network namespace"
# Not root: the test runs again under `sudo -n` (STEERD, STEERCTL and STEER_SRC kept), or
# fails with the reason when sudo would ask for a password.
if [ "$(id -u)" -ne 0 ]; then
	if sudo -n true 2>/dev/null; then
		exec sudo -n env STEERD="${STEERD:-}" STEERCTL="${STEERCTL:-}" \
			STEER_SRC="${STEER_SRC:-}" bash "$0"
	fi
	echo "FAIL: $0 must run as root (or with passwordless sudo): $1" >&2
	exit 1
fi
