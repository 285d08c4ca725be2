#!/usr/bin/env bash
# Runs every test: installs the wasm32-wasip2 target (guest test programs
# are built for it by the tests themselves, once per run), then the whole
# test suite of the host library, the CLI and the guests.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
cargo test --release
