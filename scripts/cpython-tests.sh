#!/usr/bin/env bash
# Runs CPython's subprocess tests in a Python guest (the host test
# cpython_suite) and writes guests/python/cpython-tests.md, the table of
# every test's outcome and the reason for each that does not pass. Then set
# RECORDED_PASSES in tests/tests/guests/cpython_suite.rs to the count.
#
#   bash scripts/cpython-tests.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
results=$(mktemp)
trap 'rm -f "$results"' EXIT
PROCGATE_CPYTHON_RESULTS=$results cargo test --release -p procgate-tests --test guests -- \
  --exact cpython_suite::cpython_subprocess_tests_pass_in_a_python_guest
python3 "$ROOT/scripts/cpython_tests_table.py" "$results" >"$ROOT/guests/python/cpython-tests.md.tmp"
mv "$ROOT/guests/python/cpython-tests.md.tmp" "$ROOT/guests/python/cpython-tests.md"
grep -m1 '^\*\*' "$ROOT/guests/python/cpython-tests.md"
