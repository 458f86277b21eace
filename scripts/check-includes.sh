#!/usr/bin/env bash
# Fail on an include that breaks the module dependency table (lib/README.md): a module may
# include its own headers and those of the modules it depends on, nothing above it.
# server/ takes health and steer headers only for the types zone's answer API uses
# (struct steer_client, health snapshots); it never probes or stores.
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
	[core]="core"
	[config]="core config"
	[dns]="core dns"
	[health]="core health"
	[steer]="core config health steer"
	[metrics]="core metrics"
	[zone]="core config dns health steer zone metrics"
	[monitor]="core config health monitor"
	[store]="core health store"
	[notify]="core config store notify"
	[server]="core config dns health steer zone metrics server"
	[api]="core store api"
	[xfr]="core config dns health steer zone store xfr"
	[daemon]="core config dns health steer zone monitor store server api metrics notify xfr daemon"
)
status=0
for dir in lib/*/; do
	m=$(basename "$dir")
	if [ -z "${allowed[$m]+x}" ]; then
		echo "check-includes: module $m is not in the table" >&2
		status=1
		continue
	fi
	while IFS=: read -r file line inc; do
		dep=${inc%%/*}
		if [[ " ${allowed[$m]} " != *" $dep "* ]]; then
			echo "$file:$line: $m/ may not include \"$inc\" (allowed: ${allowed[$m]})" >&2
			status=1
		fi
	done < <(grep -nE '^#include "[a-z]+/' "$dir"*.[ch] | sed -E 's/^([^:]+):([0-9]+):#include "([^"]+)".*/\1:\2:\3/')
done
exit $status
