#!/usr/bin/env bash
# Configure and build one tree. Usage: scripts/build.sh [normal|asan|release|release-clang]
#   normal:        build/               (gcc, RelWithDebInfo, -Werror)
#   asan:          build-asan/          (clang, AddressSanitizer + UBSan, -Werror)
#   release:       build-release/       (gcc -O3, -Werror: warnings only optimisation finds)
#   release-clang: build-release-clang/ (clang -O3, -Werror)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-normal}
jobs=$(nproc 2>/dev/null || echo 2)
case "$kind" in
normal)
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTEER_WERROR=ON >/dev/null
	cmake --build build -j "$jobs"
	;;
asan)
	CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSTEER_WERROR=ON \
		-DSTEER_SANITIZE=ON >/dev/null
	cmake --build build-asan -j "$jobs"
	;;
release)
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSTEER_WERROR=ON >/dev/null
	cmake --build build-release -j "$jobs"
	;;
release-clang)
	CC=clang cmake -S . -B build-release-clang -DCMAKE_BUILD_TYPE=Release -DSTEER_WERROR=ON \
		>/dev/null
	cmake --build build-release-clang -j "$jobs"
	;;
*)
	echo "usage: $0 [normal|asan|release|release-clang]" >&2
	exit 2
	;;
esac
