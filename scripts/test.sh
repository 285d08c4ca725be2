#!/usr/bin/env bash
# Runs every test: installs the wasm32-wasip2 target (guest test programs
# are built for it by the tests themselves, once per run) and the toolchains
# of the guests in other languages, then the whole test suite of the host
# library, the CLI and the guests.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
# The Python, JavaScript and C guests' toolchains, pinned and cached (a few
# minutes on a new machine, a few seconds after); the tests build the guests.
bash scripts/guests-other-languages.sh install
mkdir -p target
cargo test --release 2>&1 | tee target/test-output.log
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' target/test-output.log
