#!/usr/bin/env bash
# Sets up and runs the reference's three examples as sandboxed guests:
# installs the wasm32-wasip2 target, builds the procgate CLI and the example
# guests, then runs each under its policy file with `procgate run`.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
cargo build --release -p procgate-cli
CARGO_TARGET_DIR=target/wasm cargo build --release --target wasm32-wasip2 -p procgate-examples
wasm=target/wasm/wasm32-wasip2/release
for example in shell gather date; do
  echo "=== procgate run --policy examples/rust/$example.toml $wasm/$example.wasm"
  target/release/procgate run --policy "examples/rust/$example.toml" "$wasm/$example.wasm"
done
echo "=== the plugin host (examples/plugin-host): three plugins at once, their own policies, captured output, per-plugin audit, a hook"
cargo run --release -q -p plugin-host -- "$wasm"
