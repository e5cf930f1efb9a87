#!/usr/bin/env bash
# Installs what dq needs to build and test on Debian 12 (apt packages, and the PyPI gguf
# package used as an independent cross-check). Idempotent: installs only what is missing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config
  libltdl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev
  clang libclang-rt-14-dev valgrind python3 python3-pip binutils
  librust-half-dev librust-pkg-config-dev librust-criterion-dev
  glslc libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  hipcc libamdhip64-dev
  shellcheck
)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# gguf (PyPI) is the independent dequantizer the cross-check test compares against.
if ! python3 -c "import gguf, numpy" >/dev/null 2>&1; then
  echo "setup: installing the gguf Python package"
  pins=(-c "$(dirname "$0")/../python/test-constraints.txt")  # CI's last green versions
  python3 -m pip install -q "${pins[@]}" gguf numpy 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "${pins[@]}" gguf numpy
fi
# The Python package's tests (scripts/test.sh) build and install it into a virtual
# environment: Debian ships venv's pip bootstrap in python3-venv.
if ! dpkg -s python3-venv >/dev/null 2>&1; then
  echo "setup: installing python3-venv"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
echo "setup: done"
