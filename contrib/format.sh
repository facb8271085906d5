#!/bin/sh
# Formats every C file in place with contrib/clang-format.
set -eu
cd "$(dirname "$0")/.."
git ls-files '*.c' '*.h' | xargs -r clang-format -i
