#!/usr/bin/env bash
# Install dependencies, build, start the demo origins (small HTTP servers on 127.0.0.11,
# .12, .21, .22 and ::1, port 8080) and run steerd on the default configuration
# (steerd.json): DNS on 127.0.0.1:5353 and [::1]:5353. Ctrl-C stops steerd and the origins.
# Extra arguments go to steerd (e.g. -v for a line per probe).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh normal
./scripts/demo-origins.sh start
trap './scripts/demo-origins.sh stop >/dev/null' EXIT
./build/steerd -c steerd.json "$@"
