#!/usr/bin/env bash
# Measures the guest of each language (the cross-language `cases` program,
# running its `exec` case: start, spawn `echo`, communicate, exit) with the
# procgate CLI: component size, a run that compiles it (--no-cache: cold)
# and runs that load it from the compiled-component cache (warm: the
# guest's start-up). Each figure is the median of 5 runs, in milliseconds:
# wall time, and CPU time (user + system) of the run, which a loaded
# machine does not inflate. The load average is printed with them.
#
#   bash scripts/measure-guests.sh            # every language
#   bash scripts/measure-guests.sh python js  # some
#
# `RUST_LOG=procgate::cache=debug target/release/procgate run ...` shows
# where a warm load's time goes (hashing, reading and authenticating,
# deserializing).
set -euo pipefail
cd "$(dirname "$0")/.."
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(rust python js c)
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build --release -q -p procgate-cli
CARGO_TARGET_DIR=target/wasm cargo build --release -q --target wasm32-wasip2 -p procgate-test-programs
for lang in "${langs[@]}"; do
  [ "$lang" = rust ] || bash scripts/guests-other-languages.sh build "$lang"
done

# A cache of its own, so the cold runs compile and the warm ones load.
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
export PROCGATE_CACHE_DIR=$cache

# Runs "$@" 5 times; prints the median wall and the median CPU (user +
# system) time in milliseconds.
median_ms() {
  local walls=() cpus=() t tf
  tf=$(mktemp)
  for _ in 1 2 3 4 5; do
    # -o: the figures go to their own file; the command's stderr is dropped.
    /usr/bin/time -o "$tf" -f '%e %U %S' "$@" >/dev/null 2>/dev/null
    t=$(tail -1 "$tf")
    walls+=("$(awk '{printf "%d", $1 * 1000}' <<<"$t")")
    cpus+=("$(awk '{printf "%d", ($2 + $3) * 1000}' <<<"$t")")
  done
  rm -f "$tf"
  echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p)" \
    "$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 3p)"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %12s %12s %12s %12s\n' language bytes cold_wall cold_cpu warm_wall warm_cpu
for lang in "${langs[@]}"; do
  if [ "$lang" = rust ]; then
    wasm=target/wasm/wasm32-wasip2/release/cases.wasm
  else
    wasm=target/guests/$lang/cases.wasm
  fi
  pg=(target/release/procgate run --allow echo)
  read -r cold_wall cold_cpu < <(median_ms "${pg[@]}" --no-cache "$wasm" exec)
  "${pg[@]}" "$wasm" exec >/dev/null # fill the cache
  read -r warm_wall warm_cpu < <(median_ms "${pg[@]}" "$wasm" exec)
  printf '%-8s %10s %12s %12s %12s %12s\n' "$lang" "$(stat -c %s "$wasm")" \
    "$cold_wall" "$cold_cpu" "$warm_wall" "$warm_cpu"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
