#!/bin/sh
# Quick start, part two: install what is missing, build with warnings as errors, and run the
# whole test suite twice: once plain, once under AddressSanitizer and UndefinedBehaviorSanitizer
# (leaks included). Then check the formatting. Ends with a line "N passed, N failed".
# Options: --quick runs the plain pass only.
set -eu
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = "--quick" ] && quick=1

contrib/install-deps.sh build test

setup() {
	dir=$1
	shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
}

status=0
passes="werror"
[ "$quick" -eq 1 ] || passes="werror asan"
for pass in $passes; do
	case "$pass" in
	werror) setup _build/werror -Dwerror=true ;;
	asan) setup _build/asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug ;;
	esac
	echo "== build ($pass)"
	ninja -C "_build/$pass"
	echo "== tests ($pass)"
	meson test -C "_build/$pass" --print-errorlogs --num-processes 2 || status=1
done

echo "== formatting"
if ! git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run --Werror; then
	echo "clang-format: the files above are not formatted (run contrib/format.sh)" >&2
	status=1
fi

python3 contrib/ci/summary.py $(for pass in $passes; do echo "_build/$pass/meson-logs/testlog.json"; done) || status=1
exit $status
