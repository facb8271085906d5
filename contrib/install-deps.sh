#!/bin/sh
# Installs the Debian 12 packages relay needs, and only those that are missing.
# Usage: contrib/install-deps.sh [build] [test]
#   build: compilers, meson and the libraries (always included)
#   test:  what the test suite needs on top (chromium: the status page is rendered headless)
#   interop: npm, for the interop suite's peers (Node 22 itself comes from npm)
# Runs apt-get as root, or through sudo.
set -eu

packages="meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libsoup-3.0-dev libjson-glib-dev
  libxml2-dev libssl-dev libsqlite3-dev glib-networking ca-certificates"
for what in "$@"; do
	case "$what" in
	build) ;;
	test) packages="$packages clang-format python3 nginx-light systemd openssl chromium" ;;
	interop) command -v npm >/dev/null 2>&1 || packages="$packages npm" ;;
	*) echo "install-deps: unknown set '$what' (build, test, interop)" >&2; exit 2 ;;
	esac
done

missing=""
for package in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $package" ;;
	esac
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "install-deps: need root (or sudo) to install:$missing" >&2
	exit 1
fi
echo "install-deps: installing$missing"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
# packages with a service (nginx) must not start it: the tests only check configurations
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	trap '$sudo rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
