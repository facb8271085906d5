#!/bin/sh
# Quick start, part one: install what is missing, build, and run a node from relay.conf.sample
# on http://127.0.0.1:8080 with SQLite under ./var/. Extra arguments go to `relay serve`.
set -eu
cd "$(dirname "$0")/.."
contrib/install-deps.sh build
if [ -d _build/release ]; then
	meson setup --reconfigure _build/release >/dev/null
else
	meson setup _build/release --buildtype=release
fi
ninja -C _build/release
exec _build/release/relay/relay serve -c relay.conf.sample "$@"
