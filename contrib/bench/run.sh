#!/bin/sh
# The benchmark of README "Performance", in one command: builds the relay and relay-bench with
# optimisations in _build/bench, then measures every figure (about 5 minutes on 2 cores).
# Arguments go to relay-bench: --only FIGURES, --quick, --perf PREFIX, --keep, --help.
# Prints a table, then one JSON line per figure.
set -eu
cd "$(dirname "$0")/../.."
contrib/install-deps.sh build
if [ -d _build/bench ]; then
	meson setup --reconfigure _build/bench --buildtype=release -Dbench=true >/dev/null
else
	meson setup _build/bench --buildtype=release -Dbench=true
fi
ninja -C _build/bench relay/relay contrib/bench/relay-bench
# which relay is measured: figures are only comparable for the same source
if git rev-parse --git-dir >/dev/null 2>&1; then
	echo "relay source: $(git rev-parse --short HEAD), $(git status --porcelain -- relay federation storage | wc -l) files changed since" >&2
fi
exec _build/bench/contrib/bench/relay-bench --relay _build/bench/relay/relay "$@"
