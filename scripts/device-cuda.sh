#!/usr/bin/env bash
# Builds the cuda plugin and its tests on a GPU machine, runs the tests, the tests again
# under compute-sanitizer memcheck (quick sizes), the kernel benchmark, and `dq bench
# --backend cuda` when the dq tool builds. Logs go to $OUT (or ./device-out).
#
# Test data: set DQ_TESTDATA, or place it at .devdata/testdata (scripts copy it there; the
# folder is git-ignored through .git/info/exclude).
#   usage: scripts/device-cuda.sh [all|test|bench|tune|quick]
# quick = the tests, memcheck (quick sizes), racecheck on three formats and the kernel
# benchmark (no dq tool), for short device sessions.
# tune = all, plus benchmark runs with the tuning knobs (DQ_CUDA_STREAMING_STORES=0,
# DQ_CUDA_BLOCKS_PER_SM) and Nsight Compute sections for a few kernels.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
MODE=${1:-all}
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
BUILD=build-device
JOBS=${JOBS:-16}

log() { echo "== $(date +%T) $*" | tee -a "$OUT/summary.log"; }

{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
  nvcc --version | tail -2
  cmake --version | head -1
} >"$OUT/summary.log" 2>&1
cat "$OUT/summary.log"

log "configure"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" >"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; exit 1; }

log "build"
# The cpu plugin (the tests' reference) is built on its own: if another area's work in
# progress breaks it, the cuda targets still build and the comparisons skip with a reason.
ninja -C "$BUILD" -j"$JOBS" dq-cpu >>"$OUT/build.log" 2>&1 || log "WARNING: dq-cpu did not build"
ninja -C "$BUILD" -j"$JOBS" dq-cuda dq_cuda_decode_host_tests dq-cuda-bench \
  >>"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }
ninja -C "$BUILD" -j"$JOBS" dq_cuda_tests >>"$OUT/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }
HAVE_DQ=0
[[ $MODE == quick ]] || { ninja -C "$BUILD" -j"$JOBS" dq >>"$OUT/build.log" 2>&1 && HAVE_DQ=1; }
log "built (dq tool: $HAVE_DQ)"

status=0
if [[ $MODE == quick ]]; then
  log "tests"
  "$BUILD/bin/dq_cuda_decode_host_tests" >"$OUT/tests.log" 2>&1 || status=1
  "$BUILD/bin/dq_cuda_tests" >>"$OUT/tests.log" 2>&1 || status=1
  grep -E "^\[  (PASSED|FAILED) \]|tests ran|Failure$" "$OUT/tests.log" | sort | uniq -c | sort -rn | head -40
  grep -E -A3 "Failure$" "$OUT/tests.log" | head -40
  log "tests status $status"
  DQ_CUDA_TEST_QUICK=1 timeout 240 compute-sanitizer --tool memcheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" >"$OUT/memcheck.log" 2>&1
  mc=$?
  grep -E "ERROR SUMMARY|PASSED|FAILED \]" "$OUT/memcheck.log" | tail -3
  log "memcheck exit $mc"
  [[ $mc == 0 ]] || status=1
  DQ_CUDA_TEST_QUICK=1 timeout 120 compute-sanitizer --tool racecheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" \
    --gtest_filter='*OddBlockCounts/q4_K:*OddBlockCounts/iq2_xxs:*OddBlockCounts/mxfp4' >"$OUT/racecheck.log" 2>&1
  rc=$?
  grep -E "RACECHECK SUMMARY|ERROR SUMMARY|PASSED|FAILED \]" "$OUT/racecheck.log" | tail -3
  log "racecheck exit $rc"
  [[ $rc == 0 ]] || status=1
  log "dq-cuda-bench"
  "$BUILD/bin/dq-cuda-bench" --csv "$OUT/bench.csv" ${BENCH_ARGS:-} >"$OUT/bench.log" 2>&1
  log "dq-cuda-bench exit $?"
fi
if [[ $MODE == all || $MODE == test || $MODE == tune ]]; then
  log "tests"
  "$BUILD/bin/dq_cuda_decode_host_tests" >"$OUT/tests.log" 2>&1 || status=1
  "$BUILD/bin/dq_cuda_tests" >>"$OUT/tests.log" 2>&1 || status=1
  grep -E "^\[  (PASSED|FAILED) \]|tests ran|Failure$" "$OUT/tests.log" | sort | uniq -c | sort -rn | head -40
  grep -E -A3 "Failure$" "$OUT/tests.log" | head -40
  log "tests status $status"

  log "memcheck (DQ_CUDA_TEST_QUICK=1)"
  # API errors the tests provoke on purpose (an impossible allocation) are not memory errors.
  DQ_CUDA_TEST_QUICK=1 timeout 300 compute-sanitizer --tool memcheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" >"$OUT/memcheck.log" 2>&1
  mc=$?
  grep -E "ERROR SUMMARY|PASSED|FAILED \]|tests ran" "$OUT/memcheck.log" | tail -5
  log "memcheck exit $mc"
  [[ $mc == 0 ]] || status=1
  # Shared-memory hazards of the tile pipeline, on a few formats.
  DQ_CUDA_TEST_QUICK=1 timeout 120 compute-sanitizer --tool racecheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" \
    --gtest_filter='*OddBlockCounts/q8_0:*OddBlockCounts/q4_K:*OddBlockCounts/iq1_s:*OddBlockCounts/f16' \
    >>"$OUT/memcheck.log" 2>&1
  rc=$?
  grep -E "RACECHECK SUMMARY|ERROR SUMMARY" "$OUT/memcheck.log" | tail -2
  log "racecheck exit $rc"
  [[ $rc == 0 ]] || status=1
fi

if [[ $MODE == all || $MODE == bench || $MODE == tune ]]; then
  DQLOG="$OUT/dq-bench.log"
  [[ $MODE == tune ]] && DQLOG="$OUT/variants.log"
  if [[ $HAVE_DQ == 1 ]]; then
    log "dq bench --backend cuda"
    timeout 180 "$BUILD/bin/dq" bench --backend cuda >>"$DQLOG" 2>&1
    log "dq bench exit $?"
    tail -4 "$DQLOG"
  fi
  log "dq-cuda-bench"
  "$BUILD/bin/dq-cuda-bench" --csv "$OUT/bench.csv" ${BENCH_ARGS:-} >"$OUT/bench.log" 2>&1
  log "dq-cuda-bench exit $?"
fi
if [[ $MODE == tune ]]; then
  B="$BUILD/bin/dq-cuda-bench --no-cpu --runs 15"
  for v in "DQ_CUDA_STREAMING_STORES=0" "DQ_CUDA_BLOCKS_PER_SM=3"; do
    log "variant $v"
    echo "### $v" >>"$OUT/variants.log"
    env $v $B >>"$OUT/variants.log" 2>&1
  done
  if command -v ncu >/dev/null; then
    for spec in "q4_0 f16" "iq2_xxs f16" "q6_K f32"; do
      set -- $spec
      log "ncu $1 -> $2"
      timeout 120 ncu --kernel-name regex:dequant_tiles --launch-count 1 --section SpeedOfLight \
        --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
        --section SchedulerStats "$BUILD/bin/dq-cuda-bench" --types "$1" --outs "$2" --runs 1 \
        --warmup 0 --no-cpu --elements 67108864 >>"$OUT/ncu.log" 2>&1
    done
    grep -E "DRAM Throughput|Memory Throughput|Compute \(SM\)|Achieved Occupancy|Duration|Stall|Issued Warp|No Eligible" "$OUT/ncu.log" | head -60
  fi
fi
[[ -f $OUT/bench.log ]] && tail -36 "$OUT/bench.log"
exit $status
