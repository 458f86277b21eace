#!/usr/bin/env bash
# Install dependencies, build, and run steerd on the default configuration (steerd.json):
# DNS on 127.0.0.1:5353 and [::1]:5353. Stop with Ctrl-C. Extra arguments go to steerd.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh normal
exec ./build/steerd -c steerd.json "$@"
