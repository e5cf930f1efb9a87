#!/usr/bin/env bash
# Builds the GGUF reader fuzzer with clang (libFuzzer + ASan + UBSan) in build-fuzz, generates
# its seed corpus, and fuzzes for SECONDS (default 60) with leak detection.
# Exits non-zero on any crash, leak, timeout or sanitizer report (reproducer in
# build-fuzz/fuzz/artifacts/).
#
# Usage: scripts/fuzz-gguf.sh [SECONDS]
# Environment: DQ_FUZZ_BUILD_DIR (build-fuzz), DQ_FUZZ_MAX_LEN (16384), DQ_FUZZ_JOBS (2, for
# ninja), DQ_TESTDATA (../shared/testdata; its .gguf files join the seeds when present).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DQ_FUZZ_BUILD_DIR:-$root/build-fuzz}"
max_len="${DQ_FUZZ_MAX_LEN:-16384}"
jobs="${DQ_FUZZ_JOBS:-2}"
testdata="${DQ_TESTDATA:-$root/../shared/testdata}"

command -v clang++ >/dev/null || { echo "fuzz-gguf: clang++ not found" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDQ_BUILD_FUZZERS=ON -DDQ_BUILD_TESTS=OFF -DDQ_ENABLE_CUDA=OFF >/dev/null
ninja -C "$build" -j"$jobs" gguf_reader_fuzzer gguf_seed_corpus

seeds="$build/fuzz/seeds"
corpus="$build/fuzz/corpus"      # grows across runs; seeds are regenerated each time
artifacts="$build/fuzz/artifacts"
rm -rf "$seeds"
mkdir -p "$corpus" "$artifacts"
"$build/bin/gguf_seed_corpus" "$seeds" "$testdata"

export ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
"$build/bin/gguf_reader_fuzzer" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len="$max_len" -detect_leaks=1 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/"
echo "fuzz-gguf: ${seconds}s without a crash, leak or sanitizer report"
