#!/usr/bin/env bash
# One complete proof run on a GPU machine: builds everything for sm_90, runs the whole CTest
# suite (the CUDA, conformance and loader GPU tests run instead of skipping), memcheck over
# the CUDA tests, `dq bench --backend cuda` to f16 and f32 at 256M elements, and the 2 GB
# loader benchmark. Logs go to $OUT (or ./device-out); a summary is printed last.
#   usage: DQ_TESTDATA=... scripts/device-final.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
BUILD=build-device
S="$OUT/summary.log"
log() { echo "== $(date +%T) $*" | tee -a "$S"; }

{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  nvcc --version | tail -1; } >"$S" 2>&1
log "build"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDQ_TESTDATA_DIR="$DQ_TESTDATA" >"$OUT/build.log" 2>&1 &&
  ninja -C "$BUILD" -j16 >>"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }

log "dq backends"
"$BUILD/bin/dq" backends >>"$S" 2>&1

log "ctest (all)"
DQ_TEST_HYBRID=1 ctest --test-dir "$BUILD" -j8 --timeout 600 -LE valgrind >"$OUT/ctest.log" 2>&1
echo "ctest exit $?" >>"$S"
grep -E "tests passed|tests failed out of" "$OUT/ctest.log" >>"$S"
grep -E "\(Failed\)|\(Timeout\)|\*\*\*Failed" "$OUT/ctest.log" | head -20 >>"$S"
grep -c -E "\(Skipped\)|Skipped " "$OUT/ctest.log" | sed 's/^/skipped: /' >>"$S"
grep -E "Skipped" "$OUT/ctest.log" | grep -v -i neon | head -5 >>"$S"

log "memcheck over the CUDA tests (quick sizes)"
DQ_CUDA_TEST_QUICK=1 timeout 200 compute-sanitizer --tool memcheck --report-api-errors no \
  --error-exitcode 99 "$BUILD/bin/dq_cuda_tests" >"$OUT/memcheck.log" 2>&1
echo "memcheck exit $?" >>"$S"
grep -E "ERROR SUMMARY|PASSED|FAILED \]" "$OUT/memcheck.log" | tail -3 >>"$S"

# SKIP_CUDA_BENCH=1 / SKIP_LOAD_BENCH=1 leave the benchmarks out (e.g. when only the loader
# changed: scripts/device-loader.sh benchmarks it in more detail).
for to in ${SKIP_CUDA_BENCH:+none} f16 f32; do
  [[ $to == none ]] && break
  log "dq bench --backend cuda --to $to --elements 268435456"
  timeout 240 "$BUILD/bin/dq" bench --backend cuda --types all --elements 268435456 --to "$to" \
    >"$OUT/bench-cuda-$to.log" 2>&1
  echo "bench exit $?" >>"$S"
done

if [[ -z ${SKIP_LOAD_BENCH:-} ]]; then
  log "loader benchmark (2 GB)"
  timeout 240 "$BUILD/bin/dq" load --bench-model 2 --no-progress >"$OUT/load-bench.log" 2>&1
  echo "load bench exit $?" >>"$S"
fi
log "done"
cat "$S"
[[ -f $OUT/bench-cuda-f16.log ]] && { echo "---- bench f16"; cat "$OUT/bench-cuda-f16.log"; }
[[ -f $OUT/bench-cuda-f32.log ]] && { echo "---- bench f32"; tail -40 "$OUT/bench-cuda-f32.log"; }
[[ -f $OUT/load-bench.log ]] && { echo "---- load"; tail -30 "$OUT/load-bench.log"; }
exit 0
