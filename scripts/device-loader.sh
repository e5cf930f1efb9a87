#!/usr/bin/env bash
# Model loader on a GPU machine: builds the cuda and cpu plugins, the dq tool and the loader
# tests; runs the loader tests (GPU and host), the GPU tests again under compute-sanitizer
# memcheck with leak checking, `dq load` on the built-in model and a test model, and the
# >= 2 GB loader benchmark (sweep from DQ_BENCH_SWEEP), the first load of 7 fresh processes
# (dq load FILE), and with PROBE=1 the host-copy probe (tests/loader/probe).
# Logs go to $OUT (or ./device-out), packed into logs.tgz at the end beside loader-summary.log;
# the last lines are a summary. DRY_RUN=1 prints the steps without running them.
#
# Test data: DQ_TESTDATA, else .devdata/testdata (git-ignored; copy ../shared/testdata there).
#   usage: scripts/device-loader.sh [all|test|bench|quick]   (BENCH_GB=2, BENCH_ARGS="--budget 256")
#   quick: the GPU loader tests without memcheck, then the benchmarks
#   The GPU tests run the hybrid test too (DQ_TEST_HYBRID=1).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
MODE=${1:-all}
JOBS=${JOBS:-16}
dev_init loader-summary.log
BUILD=${BUILD:-build-device-loader}
dev_header name,driver_version,memory.total,pcie.link.gen.max,pcie.link.width.max
{
  lscpu | grep -E "Model name|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)|NUMA node\(s\)|L3 cache|Hypervisor" || true
  free -g | head -2
} 2>&1 | tee -a "$S"

log "configure + build"
dev_build . "$BUILD" "$OUT/loader-build.log" -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" -- \
  dq-cuda dq-cpu dq dq_loader_tests dq_loader_gpu_tests dq_loader_plan_tests || dev_build_failed "$OUT/loader-build.log"
log "built"
run_or_print "$BUILD/bin/dq" backends 2>&1 | head -8 | tee -a "$S"

status=0
if [[ $MODE == quick ]]; then
  log "loader GPU tests"
  run_or_print env DQ_TEST_HYBRID=1 timeout 300 "$BUILD/bin/dq_loader_gpu_tests" >"$OUT/loader-gpu-tests.log" 2>&1 || status=1
  grep -E "^\[  (PASSED|FAILED|SKIPPED) \]|checked [0-9]+ loaded" "$OUT/loader-gpu-tests.log" | tee -a "$S"
  grep -E -A4 "Failure$" "$OUT/loader-gpu-tests.log" | head -30
fi

if [[ $MODE == all || $MODE == test ]]; then
  log "loader tests (GPU, host, plan)"
  for t in dq_loader_gpu_tests dq_loader_tests dq_loader_plan_tests; do
    run_or_print env DQ_TEST_HYBRID=1 timeout 300 "$BUILD/bin/$t" >"$OUT/loader-$t.log" 2>&1 || status=1
    grep -E "^\[  (PASSED|FAILED|SKIPPED) \]|checked [0-9]+ loaded" "$OUT/loader-$t.log" | tee -a "$S"
    grep -E -A4 "Failure$" "$OUT/loader-$t.log" | head -30
  done
  log "tests status $status"

  log "compute-sanitizer memcheck --leak-check full (GPU loader tests)"
  run_or_print timeout 400 compute-sanitizer --tool memcheck --leak-check full --report-api-errors no \
    --error-exitcode 99 "$BUILD/bin/dq_loader_gpu_tests" \
    --gtest_filter='*OneMebibyteBudget:*RowRanges*:*CallerDevice*:*BandwidthProbe*' \
    >"$OUT/loader-memcheck.log" 2>&1
  mc=$?
  grep -E "ERROR SUMMARY|LEAK SUMMARY|leaked|PASSED \]|FAILED \]" "$OUT/loader-memcheck.log" | tail -6 | tee -a "$S"
  log "memcheck exit $mc"
  [[ $mc == 0 ]] || status=1
fi

if [[ $MODE != test ]]; then
  log "dq load (built-in model, test model)"
  run_or_print "$BUILD/bin/dq" load >"$OUT/loader-dq-load.log" 2>&1 || status=1
  run_or_print "$BUILD/bin/dq" load "$DQ_TESTDATA/mini-llama-q4_k_m.gguf" --to f32 >>"$OUT/loader-dq-load.log" 2>&1 || status=1
  cat "$OUT/loader-dq-load.log"
  log "dq load --bench-model ${BENCH_GB:-2}"
  MODEL=/tmp/dq-bench-model.gguf
  # shellcheck disable=SC2086  # BENCH_ARGS is a list
  run_or_print env DQ_BENCH_KEEP_MODEL=$MODEL DQ_BENCH_SWEEP="${DQ_BENCH_SWEEP:-memcpy:12:32,memcpy:12:64,memcpy:16:32,pread:12:32}" \
    timeout 400 "$BUILD/bin/dq" load --bench-model "${BENCH_GB:-2}" --repeat 9 ${BENCH_ARGS:-} \
    >"$OUT/loader-bench.log" 2>&1 || status=1
  tee -a "$S" <"$OUT/loader-bench.log"
  # An engine loads once per process: the first load of fresh processes (mapping not yet
  # faulted in, outputs newly allocated), 7 of them, each ${PROCESS_GAP:-3} s after the one
  # before exited (the device cleans up a process's freed memory in the background).
  log "first load of a fresh process: dq load $MODEL, 7 processes"
  for _ in $(seq 7); do
    dev_dry || sleep "${PROCESS_GAP:-3}"
    run_or_print "$BUILD/bin/dq" load "$MODEL" --no-progress 2>&1 | grep -E "time:|load/bus|start-up"
  done | tee "$OUT/loader-process-first.log" | tee -a "$S"
  python3 - "$OUT/loader-process-first.log" <<'PY' | tee -a "$S"
import re, statistics, sys
t = open(sys.argv[1]).read()
tot = [float(x) for x in re.findall(r"load/bus = (\d+)%", t)]
pipe = [float(x) for x in re.findall(r"\(pipeline (\d+)%\)", t)]
ms = [float(x) for x in re.findall(r"pipeline ([\d.]+) ms\)", t)]
if tot:
    print(f"fresh processes: median load/bus {statistics.median(tot):.0f}% (with setup), "
          f"pipeline {statistics.median(pipe):.0f}% ({statistics.median(ms):.1f} ms); "
          f"pipeline range {min(pipe):.0f}-{max(pipe):.0f}%")
PY
  run_or_print rm -f "$MODEL"
  log "host copy probe (2 GiB file in the page cache)"
  if [[ $MODE == quick || -z ${PROBE:-} ]]; then
    log "probe skipped (PROBE=1 runs it)"
  elif dev_dry; then
    run_or_print nvcc -O2 -arch=sm_90 -std=c++17 -o "$BUILD/host_copy_probe" tests/loader/probe/host_copy_probe.cu
    run_or_print timeout 200 "$BUILD/host_copy_probe" /tmp/dq-probe-FILE
  elif nvcc -O2 -arch=sm_90 -std=c++17 -o "$BUILD/host_copy_probe" tests/loader/probe/host_copy_probe.cu \
      >"$OUT/loader-probe.log" 2>&1; then
    probe_file=$(mktemp /tmp/dq-probe-XXXXXX)
    dd if=/dev/urandom of="$probe_file" bs=64M count=1 status=none
    for _ in $(seq 32); do dd if="$probe_file" bs=64M count=1 status=none; done >"$probe_file.full"
    mv "$probe_file.full" "$probe_file"
    sync "$probe_file"  # write-back done before timing
    timeout 200 "$BUILD/host_copy_probe" "$probe_file" >>"$OUT/loader-probe.log" 2>&1 || status=1
    rm -f "$probe_file"
  fi
  [[ -f $OUT/loader-probe.log ]] && tee -a "$S" <"$OUT/loader-probe.log"
fi
log "status $status"
exit $status
