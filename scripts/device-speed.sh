#!/usr/bin/env bash
# The cuda plugin's device measurements in one call (issues 16 and 17; what
# issue17-batch-device.sh and device-shared-kernels.sh did is a setting of this script, below):
#  1. builds dq, the cpu and cuda plugins, the CUDA tests and the conformance runner (sm_90),
#     plus EXTRA_TARGETS; and, when OLD_TAR (.devrun/old-src.tar.gz) exists, the loader of an
#     older commit beside it (its own dq and cpu plugin, this build's cuda plugin: same plugin
#     ABI) for A/B first loads;
#  2. the CUDA golden tests, `dq-conformance --plugin libdq-cuda.so` (CONFORMANCE_FILTERS="*/batch/* ..."
#     keeps only those checks) and EXTRA_TESTS (binaries of EXTRA_TARGETS) (skip: NO_TESTS=1);
#     MEMCHECK="bin ..." runs those binaries again under compute-sanitizer memcheck with leak
#     checking (DQ_CUDA_TEST_QUICK=1, MEMCHECK_TIMEOUT 300 s each), last, after step 5;
#  3. dq-cuda-bench at 256M elements, every type to f16/f32/bf16, copy rate in the same run
#     (BENCH_OUTS=f16,f32,bf16, BENCH_ELEMENTS; skip: NO_BENCH=1), and tuning variants (TUNE="ENV=V ...");
#     KERNEL_VARIANTS="name:-DFLAG=V,ENV=V ..." builds the cuda plugin again with the -D flags
#     (CMAKE_CUDA_FLAGS) and times it beside the default, its ENV=V items set while it runs;
#     the cuda plugin of an earlier commit, when BASE_TAR (.devrun/base-src.tar.gz) exists, is
#     the variant "base" (make it with `git archive COMMIT | gzip > .devrun/base-src.tar.gz`);
#     KERNEL_VARIANT_TESTS=1 also runs each variant's golden tests and conformance (step 2),
#     KERNEL_VARIANT_TESTS="name ..." only those variants'; each variant's test and bench
#     commands end after VARIANT_TIMEOUT (300) s, so a variant that hangs leaves the others time;
#  3b. STREAM_MIX=1: dq-cuda-stream-mix (plugins/cuda/bench/stream_mix.cu), the bandwidth ceiling
#     of each dequantizer read:write byte mix and the kernel styles that reach it, against a
#     copy in the same run; its table goes into the summary, its CSV to $OUT/stream-mix.csv;
#  4. SHAPES=f16,f32: `dq bench --shapes default` rows (sizes, batch) against their bound, of
#     SHAPE_TYPES (all); SHAPE_ROWS=1 adds `dq bench`'s 256M rows of the same types;
#     SHAPE_VARIANTS=1 (or "name ...") the same rows through each kernel variant's plugin
#     (the tile kernels' build knobs: KERNEL_VARIANTS="b4:-DDQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM=4");
#  5. fresh `dq load FILE` processes of the 2 GB bench model, interleaved over VARIANTS
#     ("name:ENV=V,ENV=V"; a name starting with "old" runs the older commit's dq), ROUNDS (7).
#     With DQ_LOAD_TRACE=1 in a variant, the "set-up time:" line lands in first-load.log, e.g.
#     VARIANTS="ring32:DQ_LOAD_TRACE=1 ring16:DQ_LOAD_RING_MIB=16,DQ_LOAD_TRACE=1". (The
#     ring-pinning variants, DQ_LOAD_RING_PIN=populate|block|overlap|background|grow, were
#     timed on 2026-12-05 and removed; docs/PERFORMANCE.md.)
#  6. NCU="q8_0:f16 ...": Nsight Compute sections of one kernel launch each.
# Issue 17 (batched and capture-safe calls; was scripts/issue17-batch-device.sh):
#   NO_BENCH=1 SHAPES=f16 SHAPE_TYPES=q4_K,q6_K,q8_0,q4_0,iq4_xs SHAPE_ROWS=1 \
#   EXTRA_TARGETS=dq_cuda_graph_tests EXTRA_TESTS=dq_cuda_graph_tests scripts/device-speed.sh
#   (its conformance checks alone: CONFORMANCE_FILTERS="*/batch/* */handshake/* */Q4_K/*")
# Issue 16 (the plugin from the shared kernel source against the one before the move; was
# scripts/device-shared-kernels.sh): git archive a3c8ddd | gzip > .devrun/issue16-base-src.tar.gz, then
#   BASE_TAR=.devrun/issue16-base-src.tar.gz BENCH_OUTS=f16,f32 \
#   EXTRA_TARGETS=dq_cuda_decode_host_tests EXTRA_TESTS=dq_cuda_decode_host_tests scripts/device-speed.sh
# Logs and CSVs go to $OUT (./device-out by default), packed into logs.tgz at the end; the
# summary ($OUT/summary.log) is printed last. Exit status 1 when a test or conformance failed.
# DRY_RUN=1 prints the steps without building or running anything.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
dev_init summary.log
BUILD=${BUILD:-build-device}
OLD_TAR=${OLD_TAR:-.devrun/old-src.tar.gz}
BASE_TAR=${BASE_TAR:-.devrun/base-src.tar.gz}
dev_header
status=0
# "NAME exit RC" into the summary; a failed test fails the call.
note_test() { echo "$1 exit $2" >>"$S"; [[ $2 == 0 ]] || status=1; }

OLD=/tmp/dq-old
if [[ -f $OLD_TAR ]]; then
  ( renice -n 10 -p "$BASHPID" >/dev/null
    run_or_print mkdir -p "$OLD/src" && run_or_print tar xzf "$OLD_TAR" -C "$OLD/src" &&
    JOBS=6 dev_build "$OLD/src" "$OLD/build" "$OUT/old-build.log" -DDQ_ENABLE_CUDA=OFF -DDQ_BUILD_TESTS=OFF -- dq dq-cpu ) &
  OLD_PID=$!
fi

STREAM_MIX_TARGET=
[[ ${STREAM_MIX:-0} != 0 ]] && STREAM_MIX_TARGET="dq-cuda-stream-mix"
log "build ($BUILD)"
# shellcheck disable=SC2086  # CMAKE_EXTRA and EXTRA_TARGETS are lists
dev_build . "$BUILD" "$OUT/build.log" -DDQ_TESTDATA_DIR="$DQ_TESTDATA" ${CMAKE_EXTRA:-} -- \
  dq dq-cpu dq-cuda dq-cuda-bench dq-conformance ${STREAM_MIX_TARGET:-} ${EXTRA_TARGETS:-} || dev_build_failed "$OUT/build.log"
if [[ -z ${NO_TESTS:-} ]]; then
  run_or_print ninja -C "$BUILD" -j"$JOBS" dq_cuda_tests >>"$OUT/build.log" 2>&1 || log "WARNING: dq_cuda_tests did not build"
fi
log "built"
# Kernel variants: builds of the cuda plugin alone with the variant's compiler flags
# (tile_kernel.cuh's DQ_GPU_* knobs), timed beside the default build in the same run.
declare -A kv_built=()  # compiler flags -> the variant that builds them (others only differ in env)
kv_pids=()  # the variant builds only: a bare `wait` would also reap the old build, whose own wait then fails
for kv in ${KERNEL_VARIANTS:-}; do
  name=$(variant_name "$kv"); flags=$(variant_flags "$kv")
  [[ $name == base ]] && continue
  if [[ -n ${kv_built["x$flags"]:-} ]]; then
    run_or_print rm -rf "build-kv-$name" && run_or_print ln -s "build-kv-${kv_built["x$flags"]}" "build-kv-$name"
    continue
  fi
  kv_built["x$flags"]=$name
  ( dev_build . "build-kv-$name" "$OUT/kv-$name-build.log" -DDQ_BUILD_TESTS=OFF -DCMAKE_CUDA_FLAGS="$flags" -- dq-cuda ||
      echo "variant $name did not build" ) &
  kv_pids+=($!)
done
# The cuda plugin of an earlier commit, timed as the variant "base".
if [[ -f $BASE_TAR ]]; then
  ( run_or_print mkdir -p /tmp/dq-base && run_or_print tar xzf "$BASE_TAR" -C /tmp/dq-base &&
    dev_build /tmp/dq-base build-kv-base "$OUT/kv-base-build.log" -DDQ_BUILD_TESTS=OFF -- dq-cuda ||
      echo "base plugin did not build" ) &
  kv_pids+=($!)
  KERNEL_VARIANTS="base:${KERNEL_VARIANTS:+ }${KERNEL_VARIANTS:-}"
fi
((${#kv_pids[@]})) && wait "${kv_pids[@]}"
[[ -n ${KERNEL_VARIANTS:-} ]] && log "kernel variants built"
run_or_print "$BUILD/bin/dq" backends >>"$S" 2>&1

if [[ -z ${NO_TESTS:-} ]]; then
  log "CUDA tests (goldens, every type x f32/f16/bf16)"
  run_or_print "$BUILD/bin/dq_cuda_tests" >"$OUT/cuda-tests.log" 2>&1
  note_test dq_cuda_tests $?
  grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]" "$OUT/cuda-tests.log" | sort | uniq -c | head -8 >>"$S"
  filters=()
  read -ra patterns <<<"${CONFORMANCE_FILTERS:-}"  # no pathname expansion of the patterns
  for f in "${patterns[@]}"; do filters+=(--filter "$f"); done
  log "conformance: cuda plugin ${CONFORMANCE_FILTERS:-}"
  run_or_print timeout 300 "$BUILD/bin/dq-conformance" --plugin "$BUILD/lib/dq/libdq-cuda.so" "${filters[@]}" \
    >"$OUT/conformance-cuda.log" 2>&1
  note_test "dq-conformance cuda" $?
  tail -3 "$OUT/conformance-cuda.log" >>"$S"
  # Each kernel variant's plugin under the same tests: the golden tests open libdq-cuda.so and
  # libdq-cpu.so (the reference) from DQ_TEST_PLUGIN_DIR. (No second run at
  # DQ_CUDA_BLOCKS_PER_SM=1: the CUDA tile kernels launch one block per tile, so the knob
  # only shapes the HIP build's persistent grid.)
  for kv in ${KERNEL_VARIANT_TESTS:+${KERNEL_VARIANTS:-}}; do
    name=$(variant_name "$kv"); read -ra envs <<<"$(variant_envs "$kv")"
    [[ $KERNEL_VARIANT_TESTS == 1 || " $KERNEL_VARIANT_TESTS " == *" $name "* ]] || continue
    so=build-kv-$name/lib/dq/libdq-cuda.so
    dev_have "$so" || { log "kernel variant $name: no plugin to test"; continue; }
    dir=build-kv-$name/test-plugins
    run_or_print mkdir -p "$dir" && run_or_print ln -sf "$PWD/$so" "$dir/libdq-cuda.so" &&
      run_or_print ln -sf "$PWD/$BUILD/lib/dq/libdq-cpu.so" "$dir/"
    log "kernel variant $name: CUDA tests and conformance (${envs[*]:-no env})"
    run_or_print env "${envs[@]}" DQ_TEST_PLUGIN_DIR="$dir" timeout "${VARIANT_TIMEOUT:-300}" "$BUILD/bin/dq_cuda_tests" \
      >"$OUT/kv-$name-cuda-tests.log" 2>&1
    note_test "variant $name dq_cuda_tests" $?
    grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]" "$OUT/kv-$name-cuda-tests.log" | sort | uniq -c | head -8 >>"$S"
    run_or_print env "${envs[@]}" timeout "${VARIANT_TIMEOUT:-300}" "$BUILD/bin/dq-conformance" --plugin "$so" --reference "$BUILD/lib/dq/libdq-cpu.so" \
      >"$OUT/kv-$name-conformance.log" 2>&1
    note_test "variant $name dq-conformance" $?
    tail -3 "$OUT/kv-$name-conformance.log" >>"$S"
  done
  for t in ${EXTRA_TESTS:-}; do
    log "extra test $t"
    run_or_print timeout 300 "$BUILD/bin/$t" >"$OUT/$t.log" 2>&1
    note_test "$t" $?
    grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]|FAILED|Failure|Expected|Which is|actual" "$OUT/$t.log" | head -12 >>"$S"
  done
fi

if [[ -z ${NO_BENCH:-} ]]; then
  log "dq-cuda-bench ${BENCH_ELEMENTS:=268435456} elements"
  run_or_print "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" --outs "${BENCH_OUTS:-f16,f32,bf16}" \
    --runs 9 --csv "$OUT/bench.csv" >"$OUT/bench.log" 2>&1
  echo "bench exit $?" >>"$S"
  for kv in ${KERNEL_VARIANTS:-}; do
    name=$(variant_name "$kv"); read -ra envs <<<"$(variant_envs "$kv")"
    dev_have "build-kv-$name/lib/dq/libdq-cuda.so" || continue
    log "kernel variant $name ${envs[*]}"
    run_or_print env "${envs[@]}" timeout "${VARIANT_TIMEOUT:-300}" "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" \
      --outs "${BENCH_OUTS:-f16,f32,bf16}" --runs 9 --plugin-dir "build-kv-$name/lib/dq" --csv "$OUT/bench-kv-$name.csv" >"$OUT/bench-kv-$name.log" 2>&1
    echo "variant $name bench exit $?" >>"$S"
  done
  for v in ${TUNE:-}; do
    log "variant $v"
    run_or_print env "$v" "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" --outs f16 --runs 7 \
      --types "${TUNE_TYPES:-q8_0,q4_K,q6_K,iq2_xxs,bf16}" >"$OUT/tune-${v//=/-}.log" 2>&1
  done
fi

if [[ -n ${STREAM_MIX_TARGET:-} ]]; then
  log "dq-cuda-stream-mix (read:write mixes and kernel styles against a same-run copy)"
  run_or_print timeout 300 "$BUILD/bin/dq-cuda-stream-mix" --csv "$OUT/stream-mix.csv" >"$OUT/stream-mix.log" 2>&1
  echo "stream-mix exit $?" >>"$S"
  [[ -f $OUT/stream-mix.log ]] && cat "$OUT/stream-mix.log" >>"$S"
fi

if [[ -n ${SHAPES:-} ]]; then
  for to in ${SHAPES//,/ }; do
    log "dq bench --shapes default --to $to (realistic sizes and the llama-3-8B layer batch)"
    run_or_print "$BUILD/bin/dq" bench --backend cuda --shapes default --types "${SHAPE_TYPES:-all}" --to "$to" \
      >"$OUT/shapes-$to.log" 2>&1
    echo "shapes $to exit $?" >>"$S"
    grep -E "bound|batch|x[0-9]" "$OUT/shapes-$to.log" | tail -12 >>"$S"
    # SHAPE_VARIANTS=1 (or "name ..."): the same rows through each kernel variant's plugin
    # (DQ_PLUGIN_PATH puts its folder first), e.g. the batch kernel's knobs, which only these
    # rows' layer batch reaches (dq-cuda-bench times single tensors).
    for kv in ${SHAPE_VARIANTS:+${KERNEL_VARIANTS:-}}; do
      name=$(variant_name "$kv"); read -ra envs <<<"$(variant_envs "$kv")"
      [[ $SHAPE_VARIANTS == 1 || " $SHAPE_VARIANTS " == *" $name "* ]] || continue
      dev_have "build-kv-$name/lib/dq/libdq-cuda.so" || continue
      log "kernel variant $name: dq bench --shapes default --to $to ${envs[*]}"
      run_or_print env "${envs[@]}" DQ_PLUGIN_PATH="$PWD/build-kv-$name/lib/dq" timeout "${VARIANT_TIMEOUT:-300}" \
        "$BUILD/bin/dq" bench --backend cuda --shapes default --types "${SHAPE_TYPES:-all}" --to "$to" \
        >"$OUT/shapes-$to-kv-$name.log" 2>&1
      echo "variant $name shapes $to exit $?" >>"$S"
      grep -E "bound|batch|x[0-9]" "$OUT/shapes-$to-kv-$name.log" | tail -12 >>"$S"
    done
    if [[ -n ${SHAPE_ROWS:-} ]]; then
      log "dq bench 256M rows --to $to"
      run_or_print "$BUILD/bin/dq" bench --backend cuda --types "${SHAPE_TYPES:-all}" --to "$to" >"$OUT/types-$to.log" 2>&1
      echo "types $to exit $?" >>"$S"
      tail -n +4 "$OUT/types-$to.log" >>"$S"
    fi
  done
fi

if [[ -n ${VARIANTS:-} ]]; then
  [[ -n ${OLD_PID:-} ]] && { wait "$OLD_PID" || log "old build failed: $(tail -3 "$OUT/old-build.log")"; }
  if [[ -x $OLD/build/bin/dq ]] || { dev_dry && [[ -n ${OLD_PID:-} ]]; }; then
    run_or_print cp "$BUILD/lib/dq/libdq-cuda.so" "$OLD/build/lib/dq/"
  fi
  MODEL=/tmp/dq-bench-model.gguf
  dev_bench_model "$BUILD/bin/dq" "$MODEL" 2 "$OUT/bench-model.log"
  log "first loads: $(stat -c %s "$MODEL" 2>/dev/null) bytes, ${ROUNDS:=7} rounds of: $VARIANTS"
  dev_first_loads "$BUILD/bin/dq" "$MODEL" "$ROUNDS" "$VARIANTS" "$OUT/first-load.log" "$OLD/build/bin/dq" >/dev/null
fi
# MEMCHECK="bin ...": those test binaries again under compute-sanitizer memcheck (quick sizes),
# after the timings: the slowest step, so a call that runs out of time has the numbers first.
if [[ -z ${NO_TESTS:-} ]]; then
  for t in ${MEMCHECK:-}; do
    log "memcheck $t"
    run_or_print env DQ_CUDA_TEST_QUICK=1 timeout "${MEMCHECK_TIMEOUT:-300}" compute-sanitizer --tool memcheck --report-api-errors no \
      --leak-check full --error-exitcode 9 "$BUILD/bin/$t" >"$OUT/memcheck-$t.log" 2>&1
    note_test "memcheck $t" $?
    grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED) \]|tests ran" "$OUT/memcheck-$t.log" | head -6 >>"$S"
  done
fi
[[ -f $OUT/bench.log ]] && tail -36 "$OUT/bench.log"
for f in "$OUT"/tune-*.log "$OUT"/bench-kv-*.log; do [[ -f $f ]] && { echo "## $f"; grep -E "below 90|copy D2D" "$f"; tail -3 "$f"; }; done
cat "$S"
for spec in ${NCU:-}; do
  dev_dry || command -v ncu >/dev/null || break
  log "ncu ${spec%%:*} -> ${spec#*:}"
  run_or_print timeout 90 ncu --clock-control none --kernel-name regex:dequant --launch-count 1 --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy --section SchedulerStats \
    "$BUILD/bin/dq-cuda-bench" --types "${spec%%:*}" --outs "${spec#*:}" --runs 1 --warmup 0 --no-cpu \
    --elements 67108864 >>"$OUT/ncu.log" 2>&1
  grep -E "DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Registers Per|No Eligible|Issued Warp|Stall" "$OUT/ncu.log" | tail -14 >>"$S"
done
# Side by side: % of copy per (type, output) for the default build and each kernel variant.
python3 scripts/lib/bench_side_by_side.py "$OUT" | tee -a "$S"
log "done (tests $([[ $status == 0 ]] && echo passed || echo FAILED))"
exit $status
