#!/usr/bin/env bash
# One complete proof run on a GPU machine: builds everything for sm_90, runs the whole CTest
# suite (the CUDA, conformance and loader GPU tests run instead of skipping), memcheck over
# the CUDA tests, `dq bench --backend cuda` to f16 and f32 at 256M elements, and the 2 GB
# loader benchmark. Logs go to $OUT (or ./device-out), packed into logs.tgz at the end; a
# summary (summary.log) is printed last. DRY_RUN=1 prints the steps without running them.
#   usage: DQ_TESTDATA=... scripts/device-final.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
JOBS=${JOBS:-16}
dev_init summary.log
BUILD="build-device"
dev_header
log "build"
dev_build . "$BUILD" "$OUT/build.log" -DDQ_TESTDATA_DIR="$DQ_TESTDATA" -- all || dev_build_failed "$OUT/build.log"

log "dq backends"
run_or_print "$BUILD/bin/dq" backends >>"$S" 2>&1

log "ctest (all)"
run_or_print env DQ_TEST_HYBRID=1 ctest --test-dir "$BUILD" -j8 --timeout 600 -LE valgrind >"$OUT/ctest.log" 2>&1
echo "ctest exit $?" >>"$S"
grep -E "tests passed|tests failed out of" "$OUT/ctest.log" >>"$S"
grep -E "\(Failed\)|\(Timeout\)|\*\*\*Failed" "$OUT/ctest.log" | head -20 >>"$S"
grep -c -E "\(Skipped\)|Skipped " "$OUT/ctest.log" | sed 's/^/skipped: /' >>"$S"
grep -E "Skipped" "$OUT/ctest.log" | grep -v -i neon | head -5 >>"$S"

log "memcheck over the CUDA tests (quick sizes)"
run_or_print env DQ_CUDA_TEST_QUICK=1 timeout 200 compute-sanitizer --tool memcheck --report-api-errors no \
  --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" >"$OUT/memcheck.log" 2>&1
echo "memcheck exit $?" >>"$S"
grep -E "ERROR SUMMARY|PASSED|FAILED \]" "$OUT/memcheck.log" | tail -3 >>"$S"

# SKIP_CUDA_BENCH=1 / SKIP_LOAD_BENCH=1 leave the benchmarks out (e.g. when only the loader
# changed: scripts/device-loader.sh benchmarks it in more detail).
for to in ${SKIP_CUDA_BENCH:+none} f16 f32; do
  [[ $to == none ]] && break
  log "dq bench --backend cuda --to $to --elements 268435456"
  run_or_print timeout 240 "$BUILD/bin/dq" bench --backend cuda --types all --elements 268435456 --to "$to" \
    >"$OUT/bench-cuda-$to.log" 2>&1
  echo "bench exit $?" >>"$S"
done

if [[ -z ${SKIP_LOAD_BENCH:-} ]]; then
  log "loader benchmark (2 GB)"
  run_or_print timeout 240 "$BUILD/bin/dq" load --bench-model 2 --no-progress >"$OUT/load-bench.log" 2>&1
  echo "load bench exit $?" >>"$S"
fi
log "done"
cat "$S"
[[ -f $OUT/bench-cuda-f16.log ]] && { echo "---- bench f16"; cat "$OUT/bench-cuda-f16.log"; }
[[ -f $OUT/bench-cuda-f32.log ]] && { echo "---- bench f32"; tail -40 "$OUT/bench-cuda-f32.log"; }
[[ -f $OUT/load-bench.log ]] && { echo "---- load"; tail -30 "$OUT/load-bench.log"; }
exit 0
