#!/usr/bin/env bash
# Reject banned C functions: unbounded string copies (strcpy, strcat, sprintf, vsprintf,
# gets), thread-unsafe or error-hiding calls (strtok, atoi, atol, rand, strerror,
# localtime, gmtime), a shell (system) and stack allocation of unknown size (alloca).
# Use snprintf, strtol, steer_errno_str, localtime_r/gmtime_r. lib/ may not sleep or
# resolve names either: its code runs on event loops that must never block.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|rand|strerror|localtime|gmtime|system|alloca'
libonly='sleep|usleep|getaddrinfo'
status=0
if grep -nE "(^|[^_a-zA-Z0-9.>])($banned)[[:space:]]*\(" $(git ls-files 'cmd/*.c' 'lib/*.c' 'lib/*.h' 'test/*.c' 2>/dev/null); then
	echo "check-banned: banned function used (see the list at the top of $0)" >&2
	status=1
fi
if grep -nE "(^|[^_a-zA-Z0-9.>])($libonly)[[:space:]]*\(" $(git ls-files 'lib/*.c' 2>/dev/null); then
	echo "check-banned: lib/ must not block (sleep/getaddrinfo)" >&2
	status=1
fi
exit $status
