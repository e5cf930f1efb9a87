#!/usr/bin/env bash
# Configures and builds dq into build/ (CUDA plugin too when nvcc is found).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${DQ_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$jobs"
