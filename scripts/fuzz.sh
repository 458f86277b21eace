#!/usr/bin/env bash
# Build the libFuzzer targets of test/fuzz (build-fuzz/: clang, -DSTEER_FUZZ=ON, ASan and
# UBSan) and run each for SECONDS (default 30), starting from its committed corpus
# test/fuzz/corpus/<target>/. New inputs go to build-fuzz/fuzz-work/<target>/, never into
# the committed corpus; a crashing input goes to build-fuzz/fuzz-work/artifacts/<target>/.
# Exits 1 if any target crashed, failed a check, leaked, hung (10 s per input) or ran out
# of memory; every target runs either way.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (TARGET: answer, config, jsonpos, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for src in test/fuzz/fuzz_*.c; do
		t=${src#test/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi
jobs=$(nproc 2>/dev/null || echo 2)
work=build-fuzz/fuzz-work

echo "== build (build-fuzz, clang, libFuzzer + ASan/UBSan)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSTEER_WERROR=ON -DSTEER_FUZZ=ON \
	>/dev/null
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"

failed=()
for t in "${targets[@]}"; do
	bin=build-fuzz/test/fuzz/fuzz_$t
	mkdir -p "$work/$t" "$work/artifacts/$t" "$work/tmp"
	echo "== fuzz_$t for ${secs}s (corpus test/fuzz/corpus/$t, new inputs in $work/$t)"
	# fuzz_config writes its temporary config tree under TMPDIR
	if TMPDIR="$PWD/$work/tmp" UBSAN_OPTIONS=print_stacktrace=1 "$bin" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$t/" "$work/$t" "test/fuzz/corpus/$t" \
		>"$work/$t.log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" | tail -1 || true
	else
		echo "fuzz_$t FAILED (log: $work/$t.log); the last lines:" >&2
		tail -n 40 "$work/$t.log" >&2
		ls -1 "$work/artifacts/$t/" >&2 || true
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "== fuzzing found problems in: ${failed[*]}" >&2
	echo "   reproduce: build-fuzz/test/fuzz/fuzz_<target> <artifact>" >&2
	exit 1
fi
echo "== fuzzing passed (${#targets[@]} targets, ${secs}s each)"
