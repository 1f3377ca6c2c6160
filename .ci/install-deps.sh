#!/usr/bin/env bash
# Installs the Debian packages fsfault needs. Idempotent: does nothing when all
# are present. `--check` only reports (exit 1 when something is missing).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang
  libclang-rt-14-dev  # libFuzzer and the TSan runtime for clang (make fuzz)
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  libnbd-dev libnbd-bin nbdkit
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev
  libssl-dev  # libcrypto: SHA-256 for every cache key, base64 (base/sha256.cpp, base/base64.cpp)
  libarchive-dev  # the initramfs (cpio newc, gzip) and .ko.xz/.ko.zst modules (runner/kernel/)
  libkmod-dev     # module dependency closure from modules.dep.bin (runner/kernel/)
  clang-tidy      # the function-size check (make lint, .ci/function-size.sh)
  ccache          # a machine-wide compile cache: CI's five build directories and reruns share it
  qemu-utils qemu-system-x86
  e2fsprogs xfsprogs busybox-static
  zstd xz-utils cpio kmod apt
  fio liburing-dev
  flex bison bc libelf-dev  # fsfault kernel build (runner/kernel/kernel_build.cpp) and its tests
  chromium  # headless: the repro report.html test (runner/repro/tests/flood_report_test.cpp)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "missing packages: ${missing[*]}" >&2
  exit 1
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
