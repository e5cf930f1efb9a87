#!/usr/bin/env bash
# Configures and builds dq into build/ (CUDA plugin too when nvcc is found), then installs the
# Python package into build/python-venv (scripts/install-python.sh; DQ_BUILD_PYTHON=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${DQ_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$jobs"
if [ "${DQ_BUILD_PYTHON:-1}" != 0 ]; then bash scripts/install-python.sh; fi
