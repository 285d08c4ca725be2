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
# Kernel features the sandbox tests need, detected here on their own: where
# the kernel has them, a test that skips for want of them fails instead.
# landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) is
# system call 444 on x86_64 and aarch64; it returns the ABI version.
abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint(1)))' 2>/dev/null || echo -1)
if [ "${abi:--1}" -ge 1 ] 2>/dev/null; then
  export PROCGATE_EXPECT_LANDLOCK=1
fi
for mnt in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo); do
  probe="$mnt/procgate-probe-$$"
  if mkdir "$probe" 2>/dev/null; then
    [ -e "$probe/cgroup.kill" ] && export PROCGATE_EXPECT_CGROUP=1
    rmdir "$probe"
    break
  fi
done
echo "test.sh: expecting Landlock: ${PROCGATE_EXPECT_LANDLOCK:-no} (ABI $abi), a writable cgroup v2: ${PROCGATE_EXPECT_CGROUP:-no}"
# --no-fail-fast: every test binary runs, so the counts below are whole.
status=0
cargo test --release --no-fail-fast 2>&1 | tee target/test-output.log || status=$?
# The Rust guest library's doc examples, built for wasm32-wasip2 and each
# run as a guest of the procgate just built (the target's runner), under
# guest/doc-examples.toml; their own compiled-component cache, in target/.
cargo build --release -p procgate-cli
CARGO_TARGET_WASM32_WASIP2_RUNNER="$PWD/target/release/procgate run --policy $PWD/guest/doc-examples.toml" \
  PROCGATE_CACHE_DIR="$PWD/target/doc-examples-cache" \
  cargo test --doc --target wasm32-wasip2 -p procgate-guest 2>&1 | tee -a target/test-output.log || status=$?
# One closing line for the whole run, summed over every test binary. The
# doc-tests (the code blocks in the rustdoc) count apart, as examples: most
# only show a call and assert nothing, so they are not counted as tests
# (the guest library's are run, the host crates' compiled or run by rustdoc).
awk '
  /^ *Running / { doc = 0 }
  /^ *Doc-tests / { doc = 1 }
  /^test result:/ {
    if (doc) { examples += $4; examples_failed += $6 }
    else { passed += $4; failed += $6; ignored += $8 }
  }
  END {
    printf "%d tests passed, %d failed, %d ignored; %d doc examples compiled or run, %d failed\n",
      passed, failed, ignored, examples, examples_failed
  }' target/test-output.log
# The benchmark's smoke run: every workload once, small sizes, each checking
# its output; it asserts nothing about speed (that is bench/'s report).
if bash scripts/bench.sh --quick > target/bench-quick.log 2>&1; then
  echo "bench --quick: every workload ran (target/bench-quick.log)"
else
  echo "bench --quick failed: see target/bench-quick.log"; tail -20 target/bench-quick.log; status=1
fi
exit "$status"
