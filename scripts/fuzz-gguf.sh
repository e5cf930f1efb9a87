#!/usr/bin/env bash
# Builds the GGUF fuzz targets with clang (libFuzzer + ASan + UBSan) in build-fuzz, generates
# their seed corpora, and fuzzes for SECONDS in total (default 60), split between the targets,
# with leak detection:
#   gguf_reader_fuzzer  the reader over raw bytes (inputs up to DQ_FUZZ_MAX_LEN)    40%
#   gguf_recipe_fuzzer  whole models (generated + test data) edited by a recipe     25%
#   info_json_fuzzer    `dq info --json` printing, output must be valid JSON        20%
#   split_fuzzer        split-model discovery (names, part files in a temp dir)     15%
# Exits non-zero on any crash, leak, timeout or sanitizer report (reproducer in
# build-fuzz/fuzz/artifacts/, named after the target).
#
# Usage: scripts/fuzz-gguf.sh [SECONDS]
# Environment: DQ_FUZZ_BUILD_DIR (build-fuzz), DQ_FUZZ_MAX_LEN (16384), DQ_FUZZ_JOBS (2, for
# ninja), DQ_FUZZ_TARGETS (all four, space-separated), DQ_TESTDATA (../shared/testdata; its
# .gguf files join the reader seeds and the recipe bases when present).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DQ_FUZZ_BUILD_DIR:-$root/build-fuzz}"
max_len="${DQ_FUZZ_MAX_LEN:-16384}"
jobs="${DQ_FUZZ_JOBS:-2}"
testdata="${DQ_TESTDATA:-$root/../shared/testdata}"
targets="${DQ_FUZZ_TARGETS:-gguf_reader_fuzzer gguf_recipe_fuzzer info_json_fuzzer split_fuzzer}"

command -v clang++ >/dev/null || { echo "fuzz-gguf: clang++ not found" >&2; exit 1; }
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDQ_BUILD_FUZZERS=ON -DDQ_BUILD_TESTS=OFF -DDQ_ENABLE_CUDA=OFF >/dev/null
# shellcheck disable=SC2086  # word splitting of the target list is intended
ninja -C "$build" -j"$jobs" $targets gguf_seed_corpus

seeds="$build/fuzz/seeds"
corpus="$build/fuzz/corpus"      # grows across runs; seeds are regenerated each time
artifacts="$build/fuzz/artifacts"
rm -rf "$seeds"
mkdir -p "$artifacts"
"$build/bin/gguf_seed_corpus" "$seeds" "$testdata"
[ -d "$testdata" ] && export DQ_TESTDATA="$testdata"  # recipe bases

# intercept_tls_get_addr=0: see scripts/test.sh (GCC 12 LeakSanitizer tracer crash at exit).
export ASAN_OPTIONS="detect_leaks=1:intercept_tls_get_addr=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

share() {  # share PERCENT: this target's whole seconds of the total (at least 1)
  local s=$(( seconds * $1 / 100 ))
  echo $(( s > 0 ? s : 1 ))
}

for target in $targets; do
  case "$target" in
    gguf_reader_fuzzer) time_s=$(share 40); seed_dir=reader; len=$max_len ;;
    gguf_recipe_fuzzer) time_s=$(share 25); seed_dir=recipe; len=4096 ;;
    info_json_fuzzer)   time_s=$(share 20); seed_dir=recipe; len=4096 ;;
    split_fuzzer)       time_s=$(share 15); seed_dir=split;  len=8192 ;;
    *) echo "fuzz-gguf: unknown target $target" >&2; exit 2 ;;
  esac
  echo "== $target for ${time_s}s"
  mkdir -p "$corpus/$target"
  rm -rf "$build/fuzz/tmp" && mkdir -p "$build/fuzz/tmp"  # split_fuzzer's part files
  TMPDIR="$build/fuzz/tmp" \
  "$build/bin/$target" "$corpus/$target" "$seeds/$seed_dir" \
    -dict="$root/fuzz/gguf.dict" -max_total_time="$time_s" -max_len="$len" -len_control=0 \
    -detect_leaks=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$target-"
done
echo "fuzz-gguf: ${seconds}s without a crash, leak or sanitizer report"
