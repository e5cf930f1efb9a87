#!/usr/bin/env bash
# Builds the cuda plugin and its tests on a GPU machine, runs the tests, the tests again
# under compute-sanitizer memcheck (quick sizes), the kernel benchmark, and `dq bench
# --backend cuda` when the dq tool builds. Logs go to $OUT (or ./device-out), packed into
# logs.tgz at the end beside summary.log; DRY_RUN=1 prints the steps without running them.
#
# Test data: set DQ_TESTDATA, or place it at .devdata/testdata (scripts copy it there; the
# folder is git-ignored).
#   usage: scripts/device-cuda.sh [all|test|bench|tune|quick]
# quick = the tests, memcheck (quick sizes), racecheck on three formats and the kernel
# benchmark (no dq tool), for short device sessions.
# tune = all, plus a benchmark run with the tuning knob DQ_CUDA_STREAMING_STORES=0 and
# Nsight Compute sections for a few kernels. (DQ_CUDA_BLOCKS_PER_SM shapes only the HIP
# build's persistent grid: the CUDA tile kernels launch one block per tile.)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
MODE=${1:-all}
JOBS=${JOBS:-16}
dev_init summary.log
BUILD="build-device"
dev_header
run_or_print cmake --version | head -1 | tee -a "$S"

log "configure + build"
# The cpu plugin (the tests' reference) is built on its own: if another area's work in
# progress breaks it, the cuda targets still build and the comparisons skip with a reason.
dev_build . "$BUILD" "$OUT/build.log" -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" -- ||
  dev_build_failed "$OUT/build.log"
run_or_print ninja -C "$BUILD" -j"$JOBS" dq-cpu >>"$OUT/build.log" 2>&1 || log "WARNING: dq-cpu did not build"
run_or_print ninja -C "$BUILD" -j"$JOBS" dq-cuda dq_cuda_decode_host_tests dq-cuda-bench dq_cuda_tests \
  >>"$OUT/build.log" 2>&1 || dev_build_failed "$OUT/build.log"
HAVE_DQ=0
[[ $MODE == quick ]] || { run_or_print ninja -C "$BUILD" -j"$JOBS" dq >>"$OUT/build.log" 2>&1 && HAVE_DQ=1; }
log "built (dq tool: $HAVE_DQ)"

status=0
# The tests, then memcheck and racecheck (shared-memory hazards of the tile pipeline) on
# quick sizes: run_tests MEMCHECK_TIMEOUT RACECHECK_FILTER RACECHECK_LOG
run_tests() {
  log "tests"
  run_or_print "$BUILD/bin/dq_cuda_decode_host_tests" >"$OUT/tests.log" 2>&1 || status=1
  run_or_print "$BUILD/bin/dq_cuda_tests" >>"$OUT/tests.log" 2>&1 || status=1
  grep -E "^\[  (PASSED|FAILED) \]|tests ran|Failure$" "$OUT/tests.log" | sort | uniq -c | sort -rn | head -40
  grep -E -A3 "Failure$" "$OUT/tests.log" | head -40
  log "tests status $status"
  log "memcheck (DQ_CUDA_TEST_QUICK=1)"
  # API errors the tests provoke on purpose (an impossible allocation) are not memory errors.
  run_or_print env DQ_CUDA_TEST_QUICK=1 timeout "$1" compute-sanitizer --tool memcheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" >"$OUT/memcheck.log" 2>&1
  local mc=$?
  grep -E "ERROR SUMMARY|PASSED|FAILED \]|tests ran" "$OUT/memcheck.log" | tail -5
  log "memcheck exit $mc"
  [[ $mc == 0 ]] || status=1
  run_or_print env DQ_CUDA_TEST_QUICK=1 timeout 120 compute-sanitizer --tool racecheck --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" --gtest_filter="$2" >>"$OUT/$3" 2>&1
  local rc=$?
  grep -E "RACECHECK SUMMARY|ERROR SUMMARY" "$OUT/$3" | tail -2
  log "racecheck exit $rc"
  [[ $rc == 0 ]] || status=1
}
dq_cuda_bench() {
  log "dq-cuda-bench"
  # shellcheck disable=SC2086  # BENCH_ARGS is a list
  run_or_print "$BUILD/bin/dq-cuda-bench" --csv "$OUT/bench.csv" ${BENCH_ARGS:-} >"$OUT/bench.log" 2>&1
  log "dq-cuda-bench exit $?"
}

if [[ $MODE == quick ]]; then
  run_tests 240 '*OddBlockCounts/q4_K:*OddBlockCounts/iq2_xxs:*OddBlockCounts/mxfp4' racecheck.log
  dq_cuda_bench
fi
if [[ $MODE == all || $MODE == test || $MODE == tune ]]; then
  run_tests 300 '*OddBlockCounts/q8_0:*OddBlockCounts/q4_K:*OddBlockCounts/iq1_s:*OddBlockCounts/f16' memcheck.log
fi

if [[ $MODE == all || $MODE == bench || $MODE == tune ]]; then
  DQLOG="$OUT/dq-bench.log"
  [[ $MODE == tune ]] && DQLOG="$OUT/variants.log"
  if [[ $HAVE_DQ == 1 ]]; then
    log "dq bench --backend cuda"
    run_or_print timeout 180 "$BUILD/bin/dq" bench --backend cuda >>"$DQLOG" 2>&1
    log "dq bench exit $?"
    tail -4 "$DQLOG"
  fi
  dq_cuda_bench
fi
if [[ $MODE == tune ]]; then
  v=DQ_CUDA_STREAMING_STORES=0
  log "variant $v"
  echo "### $v" >>"$OUT/variants.log"
  run_or_print env "$v" "$BUILD/bin/dq-cuda-bench" --no-cpu --runs 15 >>"$OUT/variants.log" 2>&1
  if dev_dry || command -v ncu >/dev/null; then
    for spec in "q4_0 f16" "iq2_xxs f16" "q6_K f32"; do
      read -r type to <<<"$spec"
      log "ncu $type -> $to"
      run_or_print timeout 120 ncu --kernel-name regex:dequant_tiles --launch-count 1 --section SpeedOfLight \
        --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
        --section SchedulerStats "$BUILD/bin/dq-cuda-bench" --types "$type" --outs "$to" --runs 1 \
        --warmup 0 --no-cpu --elements 67108864 >>"$OUT/ncu.log" 2>&1
    done
    grep -E "DRAM Throughput|Memory Throughput|Compute \(SM\)|Achieved Occupancy|Duration|Stall|Issued Warp|No Eligible" "$OUT/ncu.log" | head -60
  fi
fi
[[ -f $OUT/bench.log ]] && tail -36 "$OUT/bench.log"
exit $status
