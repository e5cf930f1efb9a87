#!/usr/bin/env bash
# Runs every test of dq: the CTest suites (CPU here; GPU tests skip with a reason when no GPU
# is present), a sanitizer build (ASan + UBSan + float-cast-overflow) of the C and C++ tests,
# a bounded libFuzzer run split over four targets (scripts/fuzz-gguf.sh), the Python package
# installed fresh with its pytest suite (torch, transformers, diffusers included), and the Rust
# crates (scripts/test-rust.sh). Prints one closing summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${DQ_JOBS:-$(nproc)}
fuzz_seconds=${DQ_FUZZ_SECONDS:-60}
logdir=build/test-logs
failed=0

bash scripts/setup-debian.sh || exit 1
DQ_BUILD_PYTHON=0 bash scripts/build.sh || { echo "test: build failed"; exit 1; }
mkdir -p "$logdir"

run_ctest() {  # run_ctest NAME BUILD_DIR [ctest args...]
  local name=$1 dir=$2; shift 2
  echo "== ctest ($name)"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900 \
    --output-junit "$PWD/$logdir/$name.xml" "$@" || failed=1
}

run_ctest main build

echo "== sanitizer build (ASan + UBSan)"
# The vulkan plugin is built here too (AUTO, as in the main build) and sits in lib/dq for the
# core's tests; of its own tests only the vulkan-lsan ones run here, with LeakSanitizer on
# (tests/vulkan/sanitizer_leaks.cmake; the rest ran in the main run; docs/VULKAN.md, "Build").
if cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDQ_SANITIZE=ON \
     -DDQ_ENABLE_CUDA=OFF -DDQ_ENABLE_VULKAN=AUTO >/dev/null && cmake --build build-asan -j "$jobs"; then
  # intercept_tls_get_addr=0: GCC 12's runtime takes a dynamic TLS block that lands 16 bytes
  # into a page for a pre-2.25 glibc one and reads a header before it; LeakSanitizer's tracer
  # then dies at exit ("Tracer caught signal 11", seen once in CI after a test had passed).
  # The plugins' per-thread error message lives in dynamic TLS. The blocks stay reachable
  # from each thread's DTV, which LeakSanitizer still scans.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest asan build-asan -LE "slow|valgrind|benchmark|vulkan"
  # The plugin's own code on lavapipe: about 1.5 minutes on 2 cores (each entry sets its
  # ASAN_OPTIONS with leak detection on, and preloads the loader and lavapipe).
  if [ -e build-asan/lib/dq/libdq-vulkan.so ]; then
    UBSAN_OPTIONS=print_stacktrace=1 run_ctest asan-vulkan build-asan -L vulkan-lsan
  fi
else
  echo "test: sanitizer build failed"; failed=1
fi

if [ -x scripts/fuzz-gguf.sh ]; then
  echo "== fuzzing (reader, recipes, split discovery, info --json) for ${fuzz_seconds}s"
  bash scripts/fuzz-gguf.sh "$fuzz_seconds" || { echo "test: fuzzer found a problem"; failed=1; }
fi

# The Vulkan plugin is part of the main build when glslc and the headers are found (AUTO): its
# tests ran above on lavapipe (Mesa's Vulkan on the CPU; they set DQ_VULKAN_CPU=1 themselves).
if command -v glslc >/dev/null && [ ! -e build/lib/dq/libdq-vulkan.so ]; then
  echo "test: glslc is installed but the main build has no vulkan plugin"; failed=1
fi

# The HIP plugin (Debian 12's hipcc, ROCm 5.2) in a build of its own, off in the default
# build (plugins/CMakeLists.txt says why): its kernels compiled for gfx90a and
# gfx1030, then the plugin loaded on this machine without an AMD GPU, with and without the
# ROCm runtime: dq backends and dq-conformance (docs/PLUGINS.md: what was never run).
if command -v hipcc >/dev/null; then
  echo "== hip plugin (kernels compiled for gfx90a, gfx1030; loaded without an AMD GPU)"
  if cmake -S . -B build-hip -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDQ_ENABLE_CUDA=OFF \
       -DDQ_ENABLE_HIP=ON >/dev/null &&
     cmake --build build-hip -j "$jobs" --target dq-hip dq dq-conformance; then
    run_ctest hip build-hip -L hip
  else
    echo "test: hip build failed"; failed=1
  fi
fi

# The Python package: pip install ./python into a fresh virtual environment (the wheel build
# compiles the core and the cpu plugin; CUDA off, CI has no GPU), then its pytest suite.
echo "== python package (pip install ./python, pytest)"
if DQ_ENABLE_CUDA=OFF bash scripts/install-python.sh --fresh --test; then
  build/python-venv/bin/python -m pytest python/tests -q -rs --junitxml="$PWD/$logdir/python.xml" ||
    failed=1
else
  echo "test: installing the Python package failed"; failed=1
fi

# The Rust bindings (bindings/rust): installed prefix found through pkg-config, cargo test
# --offline for dq-sys and dq, the load example, valgrind over the dq test binaries.
echo "== rust bindings (cargo test --offline, valgrind)"
bash scripts/test-rust.sh "$logdir" || { echo "test: rust bindings failed"; failed=1; }

python3 scripts/junit_summary.py "$logdir"/*.xml || failed=1
exit $failed
