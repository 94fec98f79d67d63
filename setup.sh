#!/usr/bin/env bash
# engram setup: installs the Debian packages engram needs (skipping what is
# already there), builds, and runs the node or the tests.
#
#   ./setup.sh run [engramd flags]   Release build, then engramd on embedded
#                                    defaults (127.0.0.1:8700, data in ./data)
#   ./setup.sh test                  ASan+UBSan build, then every test (CTest)
#   ./setup.sh build                 Release build only (build/release)
#   ./setup.sh deps                  install packages only
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake ninja-build git pkg-config curl
  libcaf-dev librocksdb-dev libhnswlib-dev libboost-json1.81-dev
  libboost1.81-dev libspdlog-dev catch2 libcurl4-openssl-dev libsodium-dev
  libcli11-dev libssl-dev)
JOBS=${JOBS:-$(nproc)}

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "all ${#PACKAGES[@]} packages present"
    return
  fi
  log "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q || log "apt-get update failed; trying the cached index"
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() { # build DIR CMAKE-ARGS...
  local dir=$1; shift
  log "configuring $dir"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  log "building $dir with $JOBS jobs"
  cmake --build "$dir" -j "$JOBS"
}

build_release() {
  build build/release -DCMAKE_BUILD_TYPE=Release -DENGRAM_BUILD_TESTS=OFF
}

run_tests() {
  # -O1: sanitizer builds of Beast/CAF code compile far faster than at -O2
  # and still run the suite quickly.
  build build/test -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DENGRAM_SANITIZE=ON
  log "running tests"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  local rc=0
  ctest --test-dir build/test --output-on-failure -j "$JOBS" \
    --output-junit junit.xml || rc=$?
  local summary=build/test/junit.xml
  if [ -f "$summary" ]; then
    python3 - "$summary" <<'PY' || true
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot()
t, f = int(s.get("tests", 0)), int(s.get("failures", 0))
print(f"[setup] {t - f} passed, {f} failed, {t} total")
PY
  fi
  return $rc
}

case "${1:-}" in
  run)
    shift
    install_deps
    build_release
    log "starting engramd (Ctrl-C stops it)"
    exec build/release/engramd --data-dir ./data "$@"
    ;;
  test) install_deps; run_tests ;;
  build) install_deps; build_release ;;
  deps) install_deps ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
