#!/usr/bin/env bash
# Install dependencies, then build and run every test twice: in the normal build and in
# the ASan/UBSan build; build Release with gcc and clang (-Werror). Also runs the format,
# banned-function and include gates, and every fuzz target for 15 s (scripts/fuzz.sh).
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
# optimised builds find warnings the others do not (e.g. maybe-uninitialized at -O3)
for kind in release release-clang; do
	echo "== build ($kind, -Werror)"
	./scripts/build.sh "$kind"
done
# every libFuzzer target briefly, from its committed corpus (every past crash replayed)
./scripts/fuzz.sh 15
echo "== all tests passed (normal and ASan/UBSan builds; Release gcc and clang build; fuzzing)"
