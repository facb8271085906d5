#!/usr/bin/env python3
"""Counts the TAP subtests of meson test logs and prints 'N passed, N failed'."""
import json
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as log:
        for line in log:
            result = json.loads(line)
            for line_out in result.get("stdout", "").splitlines():
                if line_out.startswith("ok "):
                    if "# SKIP" in line_out:
                        skipped += 1
                    else:
                        passed += 1
                elif line_out.startswith("not ok "):
                    failed += 1
            if result.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP"):
                # a test binary that crashed or timed out counts even if its TAP said ok
                if not any(l.startswith("not ok ") for l in result.get("stdout", "").splitlines()):
                    failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
