#!/usr/bin/env bash
# Measures the guest of each language (the cross-language `cases` program,
# running its `exec` case: start, spawn `echo`, communicate, exit) with the
# procgate CLI: component size, a run that compiles it (--no-cache: cold)
# and a run that loads it from the compiled-component cache (warm: the
# guest's start-up), each the median of 5 runs, in milliseconds.
#
#   bash scripts/measure-guests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build --release -q -p procgate-cli
CARGO_TARGET_DIR=target/wasm cargo build --release -q --target wasm32-wasip2 -p procgate-test-programs
bash scripts/guests-other-languages.sh build python js c

# A cache of its own, so the cold runs compile and the warm ones load.
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export PROCGATE_CACHE_DIR=$cache

median_ms() {
  local times=() start end
  for _ in 1 2 3 4 5; do
    start=$(date +%s%N)
    "$@" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

printf '%-8s %12s %10s %10s\n' language bytes cold_ms warm_ms
for lang in rust python js c; do
  if [ "$lang" = rust ]; then
    wasm=target/wasm/wasm32-wasip2/release/cases.wasm
  else
    wasm=target/guests/$lang/cases.wasm
  fi
  pg=(target/release/procgate run --allow echo)
  cold=$(median_ms "${pg[@]}" --no-cache "$wasm" exec)
  "${pg[@]}" "$wasm" exec >/dev/null # fill the cache
  warm=$(median_ms "${pg[@]}" "$wasm" exec)
  printf '%-8s %12s %10s %10s\n' "$lang" "$(stat -c %s "$wasm")" "$cold" "$warm"
done
