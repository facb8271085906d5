#!/bin/sh
# Checks contrib/systemd/relay.service with systemd-analyze, without starting anything:
# `verify` must print nothing, and `security --offline` must rate the unit's exposure at most
# 2.0 ("OK"; the unit scores 1.2 on systemd 252). The unit runs the installed binary; the copy
# checked here runs the one given, which must exist. Prints TAP; skipped when systemd-analyze
# is missing (Debian: apt install systemd).
# Usage: contrib/systemd/check.sh RELAY_BINARY
set -eu
unit="$(dirname "$0")/relay.service"
binary="${1:?usage: contrib/systemd/check.sh RELAY_BINARY}"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "1..0 # SKIP systemd-analyze is not installed"
	exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s|/usr/local/bin/relay|$binary|g" "$unit" >"$dir/relay.service"
echo "1..2"
status=0

if out=$(systemd-analyze verify "$dir/relay.service" 2>&1) && [ -z "$out" ]; then
	echo "ok 1 - systemd-analyze verify relay.service"
else
	echo "not ok 1 - systemd-analyze verify relay.service"
	printf '%s\n' "$out" >&2
	status=1
fi

systemd-analyze security --offline=yes --threshold=20 "$dir/relay.service" \
	>"$dir/security.txt" 2>&1 && passed=1 || passed=0
exposure=$(sed -n 's/.*Overall exposure level for relay.service: *\([0-9.]*\).*/\1/p' \
	"$dir/security.txt")
if [ "$passed" -eq 1 ] && [ -n "$exposure" ]; then
	echo "ok 2 - systemd-analyze security: exposure $exposure, at most 2.0"
else
	echo "not ok 2 - systemd-analyze security: exposure ${exposure:-unknown}, above 2.0"
	cat "$dir/security.txt" >&2
	status=1
fi
exit $status
