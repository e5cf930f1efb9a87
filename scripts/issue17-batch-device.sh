#!/usr/bin/env bash
# Issue 17, batched and capture-safe dequantization, on a CUDA machine in one call:
#  1. builds dq, the cpu and cuda plugins, the conformance runner and the CUDA graph test (sm_90);
#  2. dq_cuda_graph_tests: dq_dequantize / dq_dequantize_batch captured into CUDA graphs in
#     global mode, kernel nodes only (one per (type, output) group), replayed over fresh
#     inputs against the cpu plugin; a mixed GPU batch against single calls;
#  3. dq-conformance on the cuda plugin, batch group plus one type's value checks;
#  4. dq bench --backend cuda --shapes default (4096x4096, 4096x14336, 3072x3072, the
#     llama-3-8B layer in one batch call), each row beside its same-run bound, and the 256M
#     type rows of the same types (SHAPE_TYPES, SHAPE_OUTS).
# Logs go to $OUT (./device-out by default); the summary is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
BUILD=${BUILD:-build-issue17}
TYPES=${SHAPE_TYPES:-q4_K,q6_K,q8_0,q4_0,iq4_xs}
OUTS=${SHAPE_OUTS:-f16}
S="$OUT/summary.log"
: >"$S"
log() { echo "== $(date -u +%T) $*" | tee -a "$S"; }
{ date -u; git log --oneline -1; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; } >>"$S" 2>&1

log "build ($BUILD)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  >"$OUT/build.log" 2>&1 &&
  ninja -C "$BUILD" -j16 dq dq-cpu dq-cuda dq-conformance dq_cuda_graph_tests >>"$OUT/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$OUT/build.log" | head -30 | tee -a "$S"; exit 1; }
log "built"

log "graph capture tests"
"$BUILD/bin/dq_cuda_graph_tests" >"$OUT/graph-tests.log" 2>&1
echo "dq_cuda_graph_tests exit $?" >>"$S"
grep -E "^\[ +(OK|FAILED|SKIPPED) +\]|Failure|Expected|Which is|actual" "$OUT/graph-tests.log" | head -30 >>"$S"

log "conformance: cuda batch group and Q4_K values"
"$BUILD/bin/dq-conformance" --plugin "$BUILD/lib/dq/libdq-cuda.so" --reference "$BUILD/lib/dq/libdq-cpu.so" \
  --filter '*/batch/*' --filter '*/handshake/*' --filter '*/Q4_K/*' >"$OUT/conformance.log" 2>&1
echo "dq-conformance exit $?" >>"$S"
grep -E "^FAIL|batch/|dq-conformance:" "$OUT/conformance.log" | head -20 >>"$S"

for to in ${OUTS//,/ }; do
  log "bench --shapes default --to $to"
  "$BUILD/bin/dq" bench --backend cuda --shapes default --types "$TYPES" --to "$to" >"$OUT/shapes-$to.log" 2>&1
  echo "exit $?" >>"$S"
  cat "$OUT/shapes-$to.log" >>"$S"
  log "bench 256M rows --to $to"
  "$BUILD/bin/dq" bench --backend cuda --types "$TYPES" --to "$to" >"$OUT/types-$to.log" 2>&1
  echo "exit $?" >>"$S"
  tail -n +4 "$OUT/types-$to.log" >>"$S"
done
cat "$S"
