#!/usr/bin/env bash
# Issue 17's device measurements in one call (also the before/after check of issue 16):
#  1. builds dq, the cpu and cuda plugins, the CUDA tests and the conformance runner (sm_90);
#     and, when .devrun/old-src.tar.gz exists, the loader of an older commit beside it (its
#     own dq and cpu plugin, this build's cuda plugin: same plugin ABI) for A/B first loads;
#  2. the CUDA golden tests and `dq-conformance --plugin libdq-cuda.so` (skip: NO_TESTS=1);
#  3. dq-cuda-bench at 256M elements, every type to f16/f32/bf16, copy rate in the same run
#     (BENCH_OUTS=f16,f32,bf16, BENCH_ELEMENTS; skip: NO_BENCH=1), and tuning variants (TUNE="ENV=V ...");
#     KERNEL_VARIANTS="name:-DFLAG=V,ENV=V ..." builds the cuda plugin again with the -D flags
#     (CMAKE_CUDA_FLAGS) and times it beside the default, its ENV=V items set while it runs;
#     KERNEL_VARIANT_TESTS=1 also runs each variant's golden tests and conformance (step 2),
#     KERNEL_VARIANT_TESTS="name ..." only those variants';
#  4. SHAPES=f16,f32: `dq bench --shapes default` rows (sizes, batch) against their bound;
#  5. fresh `dq load FILE` processes of the 2 GB bench model, interleaved over VARIANTS
#     ("name:ENV=V,ENV=V"; a name starting with "old" runs the older commit's dq).
#     Staging ring pinning (DQ_LOAD_RING_PIN; register = the old default; DQ_LOAD_TRACE's
#     "set-up time:" line lands in first-load.log): VARIANTS="register:DQ_LOAD_RING_PIN=register,DQ_LOAD_TRACE=1 populate:DQ_LOAD_RING_PIN=populate,DQ_LOAD_TRACE=1 block:DQ_LOAD_RING_PIN=block,DQ_LOAD_TRACE=1 overlap:DQ_LOAD_RING_PIN=overlap,DQ_LOAD_TRACE=1 background:DQ_LOAD_RING_PIN=background,DQ_LOAD_TRACE=1 grow:DQ_LOAD_RING_PIN=grow,DQ_LOAD_TRACE=1 small:DQ_LOAD_RING_PIN=populate,DQ_LOAD_RING_THP=0,DQ_LOAD_TRACE=1"
# Logs and CSVs go to $OUT (./device-out by default); a summary is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
BUILD=${BUILD:-build-device}
S="$OUT/summary.log"
: >"$S"
log() { echo "== $(date -u +%T) $*" | tee -a "$S"; }
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  nvcc --version | tail -1; echo "host: $(nproc) cpus, up $(cut -d' ' -f1 /proc/uptime) s"; } >>"$S" 2>&1
cat "$S"

OLD=/tmp/dq-old
if [[ -f .devrun/old-src.tar.gz ]]; then
  ( mkdir -p "$OLD/src" && tar xzf .devrun/old-src.tar.gz -C "$OLD/src" &&
    cmake -S "$OLD/src" -B "$OLD/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDQ_ENABLE_CUDA=OFF \
      -DDQ_BUILD_TESTS=OFF >"$OUT/old-build.log" 2>&1 &&
    nice ninja -C "$OLD/build" -j6 dq dq-cpu >>"$OUT/old-build.log" 2>&1 ) &
  OLD_PID=$!
fi

log "build ($BUILD)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDQ_TESTDATA_DIR="$DQ_TESTDATA" ${CMAKE_EXTRA:-} >"$OUT/build.log" 2>&1 &&
  ninja -C "$BUILD" -j16 dq dq-cpu dq-cuda dq-cuda-bench dq-conformance ${EXTRA_TARGETS:-} \
    >>"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" "$OUT/build.log" | head -30; tail -5 "$OUT/build.log"; exit 1; }
if [[ -z ${NO_TESTS:-} ]]; then
  ninja -C "$BUILD" -j16 dq_cuda_tests >>"$OUT/build.log" 2>&1 || log "WARNING: dq_cuda_tests did not build"
fi
log "built"
# Kernel variants: "name:-DFLAG=V,-DFLAG=V,ENV=V" builds of the cuda plugin alone, timed beside
# the default build in the same run (tile_kernel.cuh's DQ_GPU_* knobs). Items starting with "-"
# are compiler flags; the others are environment settings (e.g. DQ_CUDA_BLOCKS_PER_SM=4) for
# every run of that variant.
kv_flags() { local i out=(); IFS=, read -ra items <<<"${1#*:}"; for i in "${items[@]}"; do [[ $i == -* ]] && out+=("$i"); done; echo "${out[*]}"; }
kv_envs() { local i out=(); [[ $1 == *:* ]] || return 0; IFS=, read -ra items <<<"${1#*:}"; for i in "${items[@]}"; do [[ $i == -* || -z $i ]] || out+=("$i"); done; echo "${out[*]}"; }
declare -A kv_built=()  # compiler flags -> the variant that builds them (others only differ in env)
for kv in ${KERNEL_VARIANTS:-}; do
  name=${kv%%:*}; flags=$(kv_flags "$kv")
  [[ $name == base ]] && continue
  if [[ -n ${kv_built["x$flags"]:-} ]]; then
    rm -rf "build-kv-$name" && ln -s "build-kv-${kv_built["x$flags"]}" "build-kv-$name"
    continue
  fi
  kv_built["x$flags"]=$name
  ( cmake -S . -B "build-kv-$name" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DDQ_BUILD_TESTS=OFF -DCMAKE_CUDA_FLAGS="$flags" >"$OUT/kv-$name-build.log" 2>&1 &&
    ninja -C "build-kv-$name" -j16 dq-cuda >>"$OUT/kv-$name-build.log" 2>&1 || echo "variant $name did not build" ) &
done
# The cuda plugin of an earlier commit (.devrun/base-src.tar.gz), timed as the variant "base".
if [[ -f .devrun/base-src.tar.gz ]]; then
  ( mkdir -p /tmp/dq-base && tar xzf .devrun/base-src.tar.gz -C /tmp/dq-base &&
    cmake -S /tmp/dq-base -B build-kv-base -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DDQ_BUILD_TESTS=OFF >"$OUT/kv-base-build.log" 2>&1 &&
    ninja -C build-kv-base -j16 dq-cuda >>"$OUT/kv-base-build.log" 2>&1 || echo "base plugin did not build" ) &
  KERNEL_VARIANTS="base:${KERNEL_VARIANTS:+ }${KERNEL_VARIANTS:-}"
fi
wait
[[ -n ${KERNEL_VARIANTS:-} ]] && log "kernel variants built"
"$BUILD/bin/dq" backends >>"$S" 2>&1

if [[ -z ${NO_TESTS:-} ]]; then
  log "CUDA tests (goldens, every type x f32/f16/bf16)"
  "$BUILD/bin/dq_cuda_tests" >"$OUT/cuda-tests.log" 2>&1
  echo "dq_cuda_tests exit $?" >>"$S"
  grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]" "$OUT/cuda-tests.log" | sort | uniq -c | head -8 >>"$S"
  log "conformance: cuda plugin"
  timeout 300 "$BUILD/bin/dq-conformance" --plugin "$BUILD/lib/dq/libdq-cuda.so" >"$OUT/conformance-cuda.log" 2>&1
  echo "dq-conformance cuda exit $?" >>"$S"
  tail -3 "$OUT/conformance-cuda.log" >>"$S"
  # Each kernel variant's plugin under the same tests: the golden tests open libdq-cuda.so and
  # libdq-cpu.so (the reference) from DQ_TEST_PLUGIN_DIR; then once more with one block per
  # multiprocessor, so every block walks many tiles and the shared-memory ring wraps often.
  for kv in ${KERNEL_VARIANT_TESTS:+${KERNEL_VARIANTS:-}}; do
    name=${kv%%:*}; read -ra envs <<<"$(kv_envs "$kv")"
    [[ $KERNEL_VARIANT_TESTS == 1 || " $KERNEL_VARIANT_TESTS " == *" $name "* ]] || continue
    so=build-kv-$name/lib/dq/libdq-cuda.so
    [[ -f $so ]] || { log "kernel variant $name: no plugin to test"; continue; }
    dir=build-kv-$name/test-plugins
    mkdir -p "$dir" && ln -sf "$PWD/$so" "$dir/libdq-cuda.so" && ln -sf "$PWD/$BUILD/lib/dq/libdq-cpu.so" "$dir/"
    log "kernel variant $name: CUDA tests and conformance (${envs[*]:-no env})"
    env "${envs[@]}" DQ_TEST_PLUGIN_DIR="$dir" "$BUILD/bin/dq_cuda_tests" >"$OUT/kv-$name-cuda-tests.log" 2>&1
    echo "variant $name dq_cuda_tests exit $?" >>"$S"
    grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]" "$OUT/kv-$name-cuda-tests.log" | sort | uniq -c | head -8 >>"$S"
    env "${envs[@]}" DQ_CUDA_BLOCKS_PER_SM=1 DQ_TEST_PLUGIN_DIR="$dir" "$BUILD/bin/dq_cuda_tests" \
      --gtest_filter='*MillionsOfElements*:*OddBlockCounts*:*Unaligned*:*MatchesEveryGoldenFile*' \
      >"$OUT/kv-$name-cuda-tests-1block.log" 2>&1
    echo "variant $name dq_cuda_tests (1 block per SM) exit $?" >>"$S"
    grep -E "^\[  (PASSED|FAILED) \]|tests ran" "$OUT/kv-$name-cuda-tests-1block.log" | sort | uniq -c | head -4 >>"$S"
    env "${envs[@]}" timeout 300 "$BUILD/bin/dq-conformance" --plugin "$so" --reference "$BUILD/lib/dq/libdq-cpu.so" \
      >"$OUT/kv-$name-conformance.log" 2>&1
    echo "variant $name dq-conformance exit $?" >>"$S"
    tail -3 "$OUT/kv-$name-conformance.log" >>"$S"
  done
  for t in ${EXTRA_TESTS:-}; do
    log "extra test $t"
    timeout 300 "$BUILD/bin/$t" >"$OUT/$t.log" 2>&1
    echo "$t exit $?" >>"$S"
    grep -E "^\[  (PASSED|FAILED) \]|tests ran|SKIPPED \]|FAILED" "$OUT/$t.log" | head -8 >>"$S"
  done
fi

if [[ -z ${NO_BENCH:-} ]]; then
  log "dq-cuda-bench ${BENCH_ELEMENTS:=268435456} elements"
  "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" --outs "${BENCH_OUTS:-f16,f32,bf16}" \
    --runs 9 --csv "$OUT/bench.csv" >"$OUT/bench.log" 2>&1
  echo "bench exit $?" >>"$S"
  for kv in ${KERNEL_VARIANTS:-}; do
    name=${kv%%:*}; read -ra envs <<<"$(kv_envs "$kv")"
    [[ -f build-kv-$name/lib/dq/libdq-cuda.so ]] || continue
    log "kernel variant $name ${envs[*]}"
    env "${envs[@]}" "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" --outs "${BENCH_OUTS:-f16,f32,bf16}" \
      --runs 9 --plugin-dir "build-kv-$name/lib/dq" --csv "$OUT/bench-kv-$name.csv" >"$OUT/bench-kv-$name.log" 2>&1
    echo "variant $name bench exit $?" >>"$S"
  done
  for v in ${TUNE:-}; do
    log "variant $v"
    env "$v" "$BUILD/bin/dq-cuda-bench" --no-cpu --elements "$BENCH_ELEMENTS" --outs f16 --runs 7 \
      --types "${TUNE_TYPES:-q8_0,q4_K,q6_K,iq2_xxs,bf16}" >"$OUT/tune-${v//=/-}.log" 2>&1
  done
fi

if [[ -n ${SHAPES:-} ]]; then
  for to in ${SHAPES//,/ }; do
    log "dq bench --shapes default --to $to (realistic sizes and the llama-3-8B layer batch)"
    "$BUILD/bin/dq" bench --backend cuda --shapes default --types "${SHAPE_TYPES:-all}" --to "$to" \
      >"$OUT/shapes-$to.log" 2>&1
    echo "shapes $to exit $?" >>"$S"
    grep -E "bound|batch|x[0-9]" "$OUT/shapes-$to.log" | tail -12 >>"$S"
  done
fi

if [[ -n ${VARIANTS:-} ]]; then
  [[ -n ${OLD_PID:-} ]] && { wait "$OLD_PID" || log "old build failed: $(tail -3 "$OUT/old-build.log")"; }
  [[ -x $OLD/build/bin/dq ]] && cp "$BUILD/lib/dq/libdq-cuda.so" "$OLD/build/lib/dq/"
  MODEL=/tmp/dq-bench-model.gguf
  DQ_BENCH_KEEP_MODEL=$MODEL "$BUILD/bin/dq" load --bench-model 2 --repeat 1 >"$OUT/bench-model.log" 2>&1 ||
    log "bench model: $(tail -2 "$OUT/bench-model.log")"
  cat "$MODEL" >/dev/null
  log "first loads: $(stat -c %s "$MODEL") bytes, ${ROUNDS:=7} rounds of: $VARIANTS"
  for r in $(seq "$ROUNDS"); do
    for v in $VARIANTS; do
      name=${v%%:*}; envs=()
      [[ $v == *:* ]] && IFS=, read -ra envs <<<"${v#*:}"
      dq="$BUILD/bin/dq"; [[ $name == old* ]] && dq="$OLD/build/bin/dq"
      sleep "${PROCESS_GAP:-2}"
      line=$(env "${envs[@]}" "$dq" load "$MODEL" --no-progress 2>&1 | grep -E "time:|load/bus|error" | tr '\n' ' ')
      echo "[$name] round $r: $line" >>"$OUT/first-load.log"
    done
  done
  python3 - "$OUT/first-load.log" <<'PY' | tee -a "$S"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\S+)\] round", line)
    if not m: continue
    b = re.search(r"load/bus = (\d+)%", line); p = re.search(r"\(pipeline (\d+)%\)", line)
    rows.setdefault(m.group(1), []).append((float(b.group(1)) if b else float("nan"),
                                            float(p.group(1)) if p else float("nan")))
for name, v in rows.items():
    bus = [x[0] for x in v]
    print(f"{name:>12}: n={len(v)} load/bus median {statistics.median(bus):.0f}% "
          f"(runs: {' '.join(f'{x:.0f}' for x in bus)}), pipeline/bus median {statistics.median(x[1] for x in v):.0f}%")
PY
fi
[[ -f $OUT/bench.log ]] && tail -36 "$OUT/bench.log"
for f in "$OUT"/tune-*.log "$OUT"/bench-kv-*.log; do [[ -f $f ]] && { echo "## $f"; grep -E "below 90|copy D2D" "$f"; tail -3 "$f"; }; done
cat "$S"
# NCU="q8_0:f16 q4_K:f16": Nsight Compute sections of one kernel launch each (clocks as found).
for spec in ${NCU:-}; do
  command -v ncu >/dev/null || break
  log "ncu ${spec%%:*} -> ${spec#*:}"
  timeout 90 ncu --clock-control none --kernel-name regex:dequant --launch-count 1 --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy --section SchedulerStats \
    "$BUILD/bin/dq-cuda-bench" --types "${spec%%:*}" --outs "${spec#*:}" --runs 1 --warmup 0 --no-cpu \
    --elements 67108864 >>"$OUT/ncu.log" 2>&1
  grep -E "DRAM Throughput|Memory Throughput|Duration|Achieved Occupancy|Registers Per|No Eligible|Issued Warp|Stall" "$OUT/ncu.log" | tail -14 >>"$S"
done
# Side by side: % of copy per (type, output) for the default build and each kernel variant.
python3 - "$OUT" <<'PY' | tee -a "$S"
import csv, glob, os, sys
out = sys.argv[1]
files = [("default", f"{out}/bench.csv")] + [
    (os.path.basename(f)[9:-4], f) for f in sorted(glob.glob(f"{out}/bench-kv-*.csv"))]
tables = {}
for name, f in files:
    if os.path.exists(f):
        tables[name] = {(r["type"], r["out"]): float(r["pct_copy"]) for r in csv.DictReader(open(f))}
if tables:
    keys = list(next(iter(tables.values())).keys())
    print("type/out      " + " ".join(f"{n:>10}" for n in tables))
    for k in keys:
        print(f"{k[0]:>8}/{k[1]:<4} " + " ".join(f"{t.get(k, float('nan')):>10.1f}" for t in tables.values()))
    for n, t in tables.items():
        v = sorted(t.values())
        print(f"{n}: min {v[0]:.1f}% median {v[len(v)//2]:.1f}% below 93%: {sum(x < 93 for x in v)} of {len(v)}")
PY
# At most 8 files come back: keep the summary, the CSVs, and everything else in one archive.
( cd "$OUT" && tar czf logs.tgz --exclude=logs.tgz --exclude='*.csv' --exclude=summary.log . &&
  find . -maxdepth 1 -type f ! -name logs.tgz ! -name summary.log ! -name '*.csv' -delete ) 2>/dev/null
