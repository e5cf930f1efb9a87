#!/usr/bin/env bash
# Hybrid uploads on a GPU machine (registering the model's mapping, core/loader/direct_upload.*):
#   1. tests/loader/probe/register_probe.cu on a 2 GiB file in the page cache: what a
#      cudaHostRegister of the mapping costs by mapping kind and flags, whether pinning scales
#      over threads, and a zero-copy pipeline against the pinned H2D copy of the same run;
#   2. the GPU hybrid test (DQ_TEST_HYBRID=1) with a watchdog: when it stalls, cuda-gdb attaches
#      and prints every thread's stack;
#   3. when it passed, the >= 2 GB loader benchmark with the hybrid rows (DQ_BENCH_HYBRID=1).
# Logs go to $OUT (or ./device-out).
#   usage: scripts/device-hybrid.sh [probe|test|bench|all]   (default all)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
MODE=${1:-all}
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
BUILD=${BUILD:-build-device-hybrid}
SUMMARY="$OUT/hybrid-summary.log"
log() { echo "== $(date +%T) $*" | tee -a "$SUMMARY"; }
: >"$SUMMARY"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a "$SUMMARY"
nproc | tee -a "$SUMMARY"

log "configure + build"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" >"$OUT/hybrid-build.log" 2>&1 &&
  ninja -C "$BUILD" -j16 dq-cuda dq-cpu dq dq_loader_gpu_tests >>"$OUT/hybrid-build.log" 2>&1 ||
  { grep -E "error|FAILED" "$OUT/hybrid-build.log" | head -30; exit 1; }
nvcc -O2 -std=c++20 -arch=sm_90 -o "$BUILD/register_probe" tests/loader/probe/register_probe.cu ||
  exit 1
log "built"

status=0
if [[ $MODE == all || $MODE == probe ]]; then
  f=/tmp/dq-register-probe.bin
  dd if=/dev/urandom of=$f bs=64M count=32 iflag=fullblock status=none && sync && cat $f >/dev/null
  log "register probe (2 GiB in the page cache)"
  timeout 300 "$BUILD/register_probe" $f >"$OUT/hybrid-probe.log" 2>"$OUT/hybrid-probe.err" || status=1
  cat "$OUT/hybrid-probe.log" | tee -a "$SUMMARY"
  grep -E "STUCK|probe: [a-z].*:" "$OUT/hybrid-probe.err" | grep -v "step " | tee -a "$SUMMARY"
  tail -1 "$OUT/hybrid-probe.err" | tee -a "$SUMMARY"
  rm -f $f
fi

passed=0
if [[ $MODE == all || $MODE == test || $MODE == bench ]]; then
  log "GPU hybrid test (watchdog 90 s)"
  DQ_TEST_HYBRID=1 DQ_LOAD_HYBRID_DEBUG=1 "$BUILD/bin/dq_loader_gpu_tests" --gtest_filter='*Hybrid*' \
    >"$OUT/hybrid-test.log" 2>&1 &
  pid=$!
  for _ in $(seq 90); do kill -0 $pid 2>/dev/null || break; sleep 1; done
  if kill -0 $pid 2>/dev/null; then
    # cuda-gdb could not attach to a thread stuck in the driver: the kernel's view instead.
    log "STALLED: where each thread waits (wchan, kernel stack)"
    for t in /proc/$pid/task/*; do
      echo "$(basename $t) $(cat $t/comm) $(cat $t/wchan 2>/dev/null) $(head -3 $t/stack 2>/dev/null | tr '\n' ' ')"
    done | tee -a "$SUMMARY" | head -40
    kill -9 $pid
    status=1
  else
    wait $pid && passed=1  # never on a stalled process: one stuck in the driver does not die
  fi
  grep -v "hybrid-debug: fill" "$OUT/hybrid-test.log" | tail -25 | tee -a "$SUMMARY"
  log "hybrid test passed=$passed"
fi

if [[ $passed == 1 && ($MODE == all || $MODE == bench) ]]; then
  log "dq load --bench-model 2 with hybrid rows"
  DQ_BENCH_HYBRID=1 timeout 400 "$BUILD/bin/dq" load --bench-model 2 --repeat 5 ${BENCH_ARGS:-} \
    >"$OUT/hybrid-bench.log" 2>&1 || status=1
  cat "$OUT/hybrid-bench.log" | tee -a "$SUMMARY"
fi
log "status $status"
exit $status
