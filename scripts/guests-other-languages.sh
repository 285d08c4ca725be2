#!/usr/bin/env bash
# The Python, JavaScript and C guests: installs their toolchains (pinned,
# from their registries, cached between runs on this machine) and builds the
# guests (only when their sources changed).
#
#   bash scripts/guests-other-languages.sh install            # the toolchains
#   bash scripts/guests-other-languages.sh build [LANG...]    # install, then build (python js c)
#   bash scripts/guests-other-languages.sh versions           # what is pinned
#
# Components land in target/guests/LANG/NAME.wasm, each with NAME.key (a hash
# of everything it was built from). The toolchains, and every component
# built, are cached under ${PROCGATE_GUEST_CACHE:-~/.cache/procgate/guests},
# so a fresh clone on the same machine reuses them. A toolchain that cannot be
# installed fails the script: nothing is skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PROCGATE_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/procgate/guests}
OUT=$ROOT/target/guests

# The pins. JavaScript's are guests/js/package.json and package-lock.json;
# C's tool (wit-bindgen-c 0.63.0, wit-component 0.262.0 and the wasmtime 48
# preview1 adapter) is pinned by guests/c/tool/Cargo.toml and Cargo.lock.
COMPONENTIZE_PY_VERSION=0.25.1
LLVM_VERSION=19
APT_PACKAGES=(clang-$LLVM_VERSION lld-$LLVM_VERSION libclang-rt-$LLVM_VERSION-dev-wasm32 wasi-libc)

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
PY_ENV=$CACHE/componentize-py-$COMPONENTIZE_PY_VERSION
JS_ENV=$CACHE/js-$(hash_of "$ROOT/guests/js/package.json" "$ROOT/guests/js/package-lock.json")
C_TOOL_DIR=$CACHE/c-tool-$(hash_of "$ROOT"/guests/c/tool/Cargo.* "$ROOT"/guests/c/tool/src/*.rs)
C_TOOL=$C_TOOL_DIR/bin/procgate-c-tool
CLANG=clang-$LLVM_VERSION

log() { echo "guests-other-languages: $*" >&2; }
# Runs a command quietly, showing its output only if it fails.
quiet() {
  local out status=0
  out=$("$@" 2>&1) || status=$?
  ((status == 0)) || printf '%s\n' "$out" >&2
  return $status
}
die() {
  log "error: $*"
  exit 1
}

mkdir -p "$CACHE"

install_c() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (apt)"
    command -v apt-get >/dev/null || die "no apt-get to install ${missing[*]}"
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      die "apt-get install ${missing[*]} failed"
  fi
  command -v "$CLANG" >/dev/null || die "$CLANG not found after installing ${APT_PACKAGES[*]}"

  if [ ! -x "$C_TOOL" ]; then
    log "building guests/c/tool (cargo, its Cargo.lock)"
    # Built outside the source tree, and the build thrown away.
    CARGO_TARGET_DIR=$C_TOOL_DIR.build cargo install --quiet --locked --root "$C_TOOL_DIR" --path "$ROOT/guests/c/tool" ||
      die "cargo install --path guests/c/tool failed"
    rm -rf "$C_TOOL_DIR.build"
  fi
}

install_python() {
  if ! "$PY_ENV/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY_VERSION"; then
    log "installing componentize-py $COMPONENTIZE_PY_VERSION (pip)"
    command -v python3 >/dev/null || die "python3 not found"
    rm -rf "$PY_ENV"
    python3 -m venv "$PY_ENV" || die "python3 -m venv failed"
    "$PY_ENV/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION" ||
      die "pip install componentize-py==$COMPONENTIZE_PY_VERSION failed"
  fi
}

install_js() {
  if [ ! -f "$JS_ENV/.installed" ]; then
    command -v node >/dev/null || die "node not found (Node.js 20 or later is needed)"
    command -v npm >/dev/null || die "npm not found"
    log "installing guests/js/package-lock.json (npm ci)"
    rm -rf "$JS_ENV"
    mkdir -p "$JS_ENV"
    cp "$ROOT/guests/js/package.json" "$ROOT/guests/js/package-lock.json" "$JS_ENV/"
    (cd "$JS_ENV" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
    touch "$JS_ENV/.installed"
  fi
}

install_lang() {
  # One installer at a time: the tests of several languages may call us at
  # once.
  (
    flock 9
    case $1 in
      python) install_python ;;
      js) install_js ;;
      c) install_c ;;
      *) die "unknown language $1 (python, js, c)" ;;
    esac
  ) 9>"$CACHE/.lock" || exit 1
}

# The hash of everything a component is built from: the toolchain pins, the
# WIT, this script, the language's guest library and the program itself.
inputs_key() {
  local lang=$1 src=$2
  {
    echo "$COMPONENTIZE_PY_VERSION $LLVM_VERSION"
    cat "$ROOT/scripts/guests-other-languages.sh"
    # (Not the docs, nor guests/python/tests: each program there is $src.)
    find "$ROOT/wit" "$ROOT/guests/$lang" -type f -not -name '*.pyc' -not -name '*.md' -not -path '*/node_modules/*' \
      -not -path '*/target/*' -not -path '*/guests/python/tests/*' | LC_ALL=C sort | xargs cat
    cat "$src"
    [ ! -f "${src%.*}.caps.toml" ] || cat "${src%.*}.caps.toml"
  } | sha256sum | cut -c1-32
}

# build_one LANG SRC NAME: builds SRC (a Python, JS or C program) into
# target/guests/LANG/NAME.wasm unless an identical build is there or cached.
build_one() {
  local lang=$1 src=$2 name=$3
  local key out=$OUT/$lang/$name.wasm cached
  key=$(inputs_key "$lang" "$src")
  cached=$CACHE/built/$lang-$name-$key.wasm
  mkdir -p "$OUT/$lang" "$CACHE/built"
  if [ -f "$out" ] && [ "$(cat "$OUT/$lang/$name.key" 2>/dev/null)" = "$key" ]; then
    return
  fi
  if [ ! -s "$cached" ]; then
    install_lang "$lang"
    log "building $lang $name from ${src#"$ROOT"/}"
    local start=$SECONDS tmp
    tmp=$(mktemp -d)
    case $lang in
      python) build_python "$src" "$tmp/out.wasm" "$tmp" ;;
      js) build_js "$src" "$tmp/out.wasm" "$tmp" ;;
      c) build_c "$src" "$tmp/out.wasm" "$tmp" ;;
    esac
    declare_caps "$src" "$tmp/out.wasm"
    # One build per program is kept: the older ones go.
    rm -f "$CACHE/built/$lang-$name-"*.wasm
    mv "$tmp/out.wasm" "$cached"
    rm -rf "$tmp"
    log "built $lang $name in $((SECONDS - start)) s ($(stat -c %s "$cached") bytes)"
  fi
  cp "$cached" "$out.tmp"
  mv "$out.tmp" "$out"
  echo "$key" >"$OUT/$lang/$name.key"
}

# A program with a file NAME.caps.toml beside it (NAME.py, NAME.js, NAME.c)
# declares its capabilities: `procgate declare` writes that file into the
# component (docs/policy.md#declared-capabilities). $PROCGATE is the CLI
# (default target/release/procgate, built if missing).
declare_caps() {
  local caps=${1%.*}.caps.toml out=$2
  [ -f "$caps" ] || return 0
  local procgate=${PROCGATE:-$ROOT/target/release/procgate}
  [ -x "$procgate" ] || (cd "$ROOT" && cargo build --release --quiet -p procgate-cli) || die "building procgate failed"
  "$procgate" declare "$caps" "$out" -o "$out" || die "procgate declare failed on $caps"
}

build_python() {
  local src=$1 out=$2 tmp=$3
  # The app module (guests/python/app.py) runs the program; the procgate
  # package sits beside them.
  cp "$ROOT/guests/python/app.py" "$tmp/app.py"
  cp "$src" "$tmp/program.py"
  echo "${src#"$ROOT"/}" >"$tmp/program-name.txt"
  cp -r "$ROOT/guests/python/procgate" "$tmp/procgate"
  rm -rf "$tmp/procgate/__pycache__"
  (cd "$tmp" && quiet "$PY_ENV/bin/componentize-py" --wit-path "$ROOT/wit" --world procgate:subprocess/command \
    componentize app -o "$out") || die "componentize-py failed on $src"
}

build_js() {
  local src=$1 out=$2 tmp=$3
  cp "$ROOT/guests/js/procgate.js" "$tmp/procgate.js"
  cp -r "$ROOT/guests/js/node" "$tmp/node"
  cp "$src" "$tmp/app.js"
  quiet node "$ROOT/guests/js/componentize.mjs" "$JS_ENV" "$ROOT/wit" "$tmp" "$out" ||
    die "componentize-js failed on $src"
}

build_c() {
  local src=$1 out=$2 tmp=$3
  # The world of guests/c/wit (procgate's imports and wasi:cli/exit), with
  # wit/ as its dependencies:
  # = wit-bindgen c --world procgate:c-guest/imports --out-dir "$tmp/gen" "$tmp/wit"
  mkdir -p "$tmp/wit/deps/subprocess"
  cp "$ROOT/guests/c/wit/world.wit" "$tmp/wit/"
  cp -r "$ROOT/wit/deps/." "$tmp/wit/deps/"
  cp "$ROOT/wit/subprocess.wit" "$tmp/wit/deps/subprocess/"
  "$C_TOOL" bindings "$tmp/wit" imports "$tmp/gen" || die "C bindings failed"
  # -nostartfiles: guests/c/start.c is the entry point; --wrap: exit(n) ends
  # the guest with status n (see there why).
  "$CLANG" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -fuse-ld=lld -nostartfiles \
    -Wl,--wrap=__wasi_proc_exit \
    -I "$tmp/gen" -I "$ROOT/guests/c" \
    "$src" "$ROOT/guests/c/procgate.c" "$ROOT/guests/c/start.c" "$tmp/gen"/*.c "$tmp/gen"/*_component_type.o \
    -o "$tmp/core.wasm" || die "$CLANG failed on $src"
  # = wasm-tools component new core.wasm --adapt wasi_snapshot_preview1=ADAPTER -o out.wasm
  "$C_TOOL" component "$tmp/core.wasm" "$out" || die "making a component of $src failed"
}

# The guests of a language: the shared cases, the reference's examples and
# the language's own test guests.
build_lang() {
  local lang=$1 ext
  case $lang in
    python) ext=py ;;
    js) ext=js ;;
    c) ext=c ;;
    *) die "unknown language $lang (python, js, c)" ;;
  esac
  build_one "$lang" "$ROOT/tests/cross_language/cases.$ext" cases
  for example in shell gather date; do
    build_one "$lang" "$ROOT/examples/$lang/$example.$ext" "$example"
  done
  # The language's own test guests (tests/js, tests/c), each named for its
  # file.
  local test
  for test in "$ROOT/tests/$lang"/*."$ext"; do
    [ -e "$test" ] || continue
    build_one "$lang" "$test" "$(basename "$test" ".$ext")"
  done
  # Python's own test programs: the standard library's process APIs
  # unchanged, and the runner of CPython's subprocess tests.
  if [ "$lang" = python ]; then
    for program in "$ROOT"/guests/python/tests/*.py; do
      build_one python "$program" "$(basename "$program" .py)"
    done
  fi
}

cmd=${1:-build}
shift || true
langs=("$@")
((${#langs[@]})) || langs=(python js c)
case $cmd in
  install) for lang in "${langs[@]}"; do install_lang "$lang"; done ;;
  build) for lang in "${langs[@]}"; do build_lang "$lang"; done ;;
  versions)
    echo "componentize-py $COMPONENTIZE_PY_VERSION (PyPI)"
    echo "componentize-js and preview2-shim: guests/js/package-lock.json (npm)"
    echo "guests/c/tool: wit-bindgen-c 0.63.0, wit-component 0.262.0, wasi-preview1-component-adapter-provider 48.0.8 (crates.io, guests/c/tool/Cargo.lock)"
    echo "${APT_PACKAGES[*]} (Debian)"
    ;;
  *) die "usage: $0 install|build|versions [python|js|c]..." ;;
esac
