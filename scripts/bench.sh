#!/usr/bin/env bash
# Runs the benchmark: every workload from a wasm guest through procgate,
# natively with tokio::process, and with Python asyncio (/usr/bin/python3),
# interleaved, each measurement in a fresh process; writes the report
# (REPORT.md, ratios.svg, results.json) into bench/report/. Installs the
# wasm32-wasip2 target, builds the CLI and the bench (release), and the
# bench builds its guest programs. Arguments go to the bench: --quick for
# a short run, --only spawn,echo for some workloads, --help for the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2
cargo build --release -p procgate-cli -p procgate-bench
exec target/release/procgate-bench "$@"
