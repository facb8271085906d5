#!/bin/sh
# Installs the interop suite's npm packages when they are missing or the lockfile changed.
# npm itself comes from Debian when the machine has none.
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
	../../contrib/install-deps.sh interop
fi
if [ -x node_modules/node/bin/node ] && cmp -s package-lock.json node_modules/.lock-installed; then
	exit 0
fi
echo "interop: installing the peers (npm ci)"
# --prefer-offline: the npm cache is enough once it holds every package
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.lock-installed
