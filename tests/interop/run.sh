#!/bin/sh
# The interop suite: installs its peers from the npm registry (exact versions from
# package-lock.json; a second run takes them from npm's cache and works offline), then runs
# run.mjs on Node 22 (the npm package node@22; the machine's Node may be older).
# usage: tests/interop/run.sh [--relay PATH] [--write-readme] [--keep]
set -eu
cd "$(dirname "$0")"
./setup.sh
exec node_modules/node/bin/node run.mjs "$@"
