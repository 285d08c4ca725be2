#!/usr/bin/env bash
# The habits CI keeps before it runs the tests: formatting, clippy with
# warnings as errors (the lints are [workspace.lints] in Cargo.toml), and the
# rustdoc of every crate without a warning (broken links, missing docs).
# Host-side crates build for this machine; the guest crates for wasm32-wasip2.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
guests=(-p procgate-guest -p procgate-test-programs -p procgate-examples -p procgate-bench-guests)
step() { echo "lint.sh: $*" >&2; }

step "cargo fmt --check"
cargo fmt --all --check

step "clippy, host side (every target, warnings are errors)"
cargo clippy --workspace --exclude procgate-guest --exclude procgate-test-programs \
  --exclude procgate-examples --exclude procgate-bench-guests --all-targets -- -D warnings
step "clippy, guest side (wasm32-wasip2)"
cargo clippy --target wasm32-wasip2 "${guests[@]}" --lib --bins -- -D warnings

step "rustdoc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --exclude procgate-guest \
  --exclude procgate-test-programs --exclude procgate-examples --exclude procgate-bench-guests
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --target wasm32-wasip2 -p procgate-guest
step "clean"
