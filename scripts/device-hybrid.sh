#!/usr/bin/env bash
# Hybrid uploads on a GPU machine (registering the model's mapping, core/loader/direct_upload.*):
#   1. tests/loader/probe/register_probe.cu on a 2 GiB file in the page cache: what a
#      cudaHostRegister of the mapping costs by mapping kind and flags, whether pinning scales
#      over threads, and a zero-copy pipeline against the pinned H2D copy of the same run;
#   2. the GPU hybrid test (DQ_TEST_HYBRID=1) with a watchdog: when it stalls, cuda-gdb attaches
#      and prints every thread's stack;
#   3. when it passed, the >= 2 GB loader benchmark with the hybrid rows (DQ_BENCH_HYBRID=1).
# Logs go to $OUT (or ./device-out), packed into logs.tgz at the end beside hybrid-summary.log.
# DRY_RUN=1 prints the steps without running them.
#   usage: scripts/device-hybrid.sh [probe|test|bench|all]   (default all)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
MODE=${1:-all}
JOBS=${JOBS:-16}
dev_init hybrid-summary.log
BUILD=${BUILD:-build-device-hybrid}
dev_header name,driver_version

log "configure + build"
dev_build . "$BUILD" "$OUT/hybrid-build.log" -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" -- \
  dq-cuda dq-cpu dq dq_loader_gpu_tests || dev_build_failed "$OUT/hybrid-build.log"
run_or_print nvcc -O2 -std=c++20 -arch=sm_90 -o "$BUILD/register_probe" tests/loader/probe/register_probe.cu ||
  exit 1
log "built"

status=0
if [[ $MODE == all || $MODE == probe ]]; then
  f=/tmp/dq-register-probe.bin
  run_or_print dd if=/dev/urandom of=$f bs=64M count=32 iflag=fullblock status=none && run_or_print sync &&
    run_or_print cat $f >/dev/null
  log "register probe (2 GiB in the page cache)"
  run_or_print timeout 300 "$BUILD/register_probe" $f >"$OUT/hybrid-probe.log" 2>"$OUT/hybrid-probe.err" || status=1
  tee -a "$S" <"$OUT/hybrid-probe.log"
  grep -E "STUCK|probe: [a-z].*:" "$OUT/hybrid-probe.err" | grep -v "step " | tee -a "$S"
  tail -1 "$OUT/hybrid-probe.err" | tee -a "$S"
  run_or_print rm -f $f
fi

passed=0
if [[ $MODE == all || $MODE == test || $MODE == bench ]]; then
  log "GPU hybrid test (watchdog 90 s)"
  # Started as a plain command, so $! is the test process itself (the watchdog inspects it).
  hybrid_test=(env DQ_TEST_HYBRID=1 DQ_LOAD_HYBRID_DEBUG=1 "$BUILD/bin/dq_loader_gpu_tests" --gtest_filter='*Hybrid*')
  dev_dry && { run_or_print "${hybrid_test[@]}"; hybrid_test=(true); }
  "${hybrid_test[@]}" >"$OUT/hybrid-test.log" 2>&1 &
  pid=$!
  for _ in $(seq 90); do kill -0 $pid 2>/dev/null || break; sleep 1; done
  if kill -0 $pid 2>/dev/null; then
    # cuda-gdb could not attach to a thread stuck in the driver: the kernel's view instead.
    log "STALLED: where each thread waits (wchan, kernel stack)"
    for t in /proc/$pid/task/*; do
      echo "$(basename "$t") $(cat "$t/comm") $(cat "$t/wchan" 2>/dev/null) $(head -3 "$t/stack" 2>/dev/null | tr '\n' ' ')"
    done | tee -a "$S" | head -40
    kill -9 $pid
    status=1
  else
    wait $pid && passed=1  # never on a stalled process: one stuck in the driver does not die
  fi
  grep -v "hybrid-debug: fill" "$OUT/hybrid-test.log" | tail -25 | tee -a "$S"
  log "hybrid test passed=$passed"
fi

if [[ $passed == 1 && ($MODE == all || $MODE == bench) ]]; then
  log "dq load --bench-model 2 with hybrid rows"
  # shellcheck disable=SC2086  # BENCH_ARGS is a list
  run_or_print env DQ_BENCH_HYBRID=1 timeout 400 "$BUILD/bin/dq" load --bench-model 2 --repeat 5 ${BENCH_ARGS:-} \
    >"$OUT/hybrid-bench.log" 2>&1 || status=1
  tee -a "$S" <"$OUT/hybrid-bench.log"
fi
log "status $status"
exit $status
