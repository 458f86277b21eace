#!/usr/bin/env bash
# Install dependencies, then build and run every test twice: in the normal build and in
# the ASan/UBSan build. Also runs the format and banned-function gates.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/check-format.sh
./scripts/check-banned.sh
./scripts/check-includes.sh
jobs=$(nproc 2>/dev/null || echo 2)
for kind in normal asan; do
	./scripts/build.sh "$kind"
	dir=build
	[ "$kind" = asan ] && dir=build-asan
	echo "== ctest ($kind build)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir "$dir" --output-on-failure -j "$jobs"
done
echo "== all tests passed (normal and ASan/UBSan builds)"
