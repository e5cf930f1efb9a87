#!/usr/bin/env bash
# Issue 16 on a CUDA machine: is the cuda plugin built from the shared kernel source
# (plugins/gpu-common/kernels) as exact and as fast as the one built before the move?
#  1. builds this tree (dq, dq-cpu, dq-cuda, the CUDA golden tests, dq-conformance; sm_90),
#     and the cuda plugin of the base commit from .devrun/base-src.tar.gz, made beforehand
#     where the repository is: git archive a3c8ddd | gzip > .devrun/issue16-base-src.tar.gz
#     (a3c8ddd: the last commit with plugins/cuda/kernels; BASE_TAR overrides the file);
#  2. exactness: dq_cuda_decode_host_tests, dq_cuda_tests (goldens against the cpu plugin),
#     dq-conformance --plugin libdq-cuda.so;
#  3. speed, same run: `dq bench --backend cuda --types all --elements 268435456 --to T`
#     for T in TOS (default "f16 f32"), alternating this build's plugin and the base one
#     (loaded through DQ_PLUGIN_PATH, same core and dq), ROUNDS times each (default 3);
#     BENCH_ARGS adds dq bench options (e.g. "--repeat 5").
# Logs go to $OUT (./device-out by default); the summary (per type: median GB/s of each
# plugin and new/base) is printed last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
BUILD=${BUILD:-build-device}
BASE_TAR=${BASE_TAR:-.devrun/issue16-base-src.tar.gz}
ROUNDS=${ROUNDS:-3}
TOS=${TOS:-"f16 f32"}
JOBS=${JOBS:-$(nproc)}
S="$OUT/summary.log"
: >"$S"
log() { echo "== $(date -u +%T) $*" | tee -a "$S"; }
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; nvcc --version | tail -1; } >>"$S" 2>&1

log "build ($BUILD, sm_90)"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDQ_TESTDATA_DIR="$DQ_TESTDATA" >"$OUT/build.log" 2>&1 &&
  ninja -C "$BUILD" -j"$JOBS" dq dq-cpu dq-cuda dq-conformance dq_cuda_tests dq_cuda_decode_host_tests \
    >>"$OUT/build.log" 2>&1 || { grep -E "error|FAILED" "$OUT/build.log" | head -30; exit 1; }

BASE_DIR=/tmp/dq-shared-kernels-base
have_base=0
if [[ -f $BASE_TAR ]]; then
  log "build base cuda plugin ($BASE_TAR)"
  rm -rf "$BASE_DIR" && mkdir -p "$BASE_DIR/src" "$BASE_DIR/plugins" &&
    tar xzf "$BASE_TAR" -C "$BASE_DIR/src" &&
    cmake -S "$BASE_DIR/src" -B "$BASE_DIR/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CUDA_ARCHITECTURES=90 -DDQ_BUILD_TESTS=OFF -DDQ_BUILD_TOOLS=OFF >"$OUT/base-build.log" 2>&1 &&
    ninja -C "$BASE_DIR/build" -j"$JOBS" dq-cuda >>"$OUT/base-build.log" 2>&1 &&
    cp "$BASE_DIR/build/lib/dq/libdq-cuda.so" "$BASE_DIR/plugins/" && have_base=1 ||
    log "WARNING: the base plugin did not build (see base-build.log); speed has no comparison"
else
  log "WARNING: no $BASE_TAR; speed has no comparison"
fi

# Which file each variant's "cuda" is (the first one found wins; DQ_PLUGIN_PATH comes first).
{ "$BUILD/bin/dq" backends; [[ $have_base == 1 ]] && DQ_PLUGIN_PATH="$BASE_DIR/plugins" "$BUILD/bin/dq" backends; } 2>&1 |
  grep -E "^cuda|path: .*libdq-cuda" >>"$S"

status=0
log "exactness: decode host tests, CUDA goldens, conformance"
"$BUILD/bin/dq_cuda_decode_host_tests" >"$OUT/decode-host.log" 2>&1 || status=1
"$BUILD/bin/dq_cuda_tests" >"$OUT/cuda-tests.log" 2>&1 || status=1
"$BUILD/bin/dq-conformance" --plugin "$BUILD/lib/dq/libdq-cuda.so" --testdata "$DQ_TESTDATA" \
  >"$OUT/conformance.log" 2>&1 || status=1
{ tail -1 "$OUT/decode-host.log"; grep -E "^\[  (PASSED|FAILED|SKIPPED) " "$OUT/cuda-tests.log";
  tail -1 "$OUT/conformance.log"; } >>"$S"

log "speed: dq bench --backend cuda, $ROUNDS rounds, new and base alternating"
for to in $TOS; do
  for r in $(seq "$ROUNDS"); do
    for v in new base; do
      [[ $v == base && $have_base == 0 ]] && continue
      f="$OUT/bench-$to-$v-$r.log"
      if [[ $v == base ]]; then
        DQ_PLUGIN_PATH="$BASE_DIR/plugins" timeout 300 "$BUILD/bin/dq" bench --backend cuda --types all \
          --elements 268435456 --to "$to" --no-gguf ${BENCH_ARGS:-} >"$f" 2>&1
      else
        timeout 300 "$BUILD/bin/dq" bench --backend cuda --types all --elements 268435456 --to "$to" \
          --no-gguf ${BENCH_ARGS:-} >"$f" 2>&1
      fi
      echo "bench $to $v round $r exit $?" >>"$S"
    done
  done
  # Rows "type Melem/s GB/s ...": median GB/s per type and plugin, and new / base.
  awk -v to="$to" '
    FNR == 1 { v = FILENAME; sub(/.*bench-[a-z0-9]+-/, "", v); sub(/-[0-9]+\.log$/, "", v) }
    $1 ~ /^[A-Za-z0-9_]+$/ && $2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/ { g[$1, v] = g[$1, v] " " $3; types[$1] = 1 }
    function median(s,   a, n, i, j, t) {
      n = split(s, a, " "); if (n == 0) return 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
      printf "-> %s        new GB/s  base GB/s  new/base\n", to
      for (t in types) {
        n = median(g[t, "new"]); b = median(g[t, "base"])
        printf "%-10s %9.1f  %9.1f  %8s\n", t, n, b, (b > 0 ? sprintf("%.3f", n / b) : "n/a")
      }
    }' "$OUT"/bench-"$to"-*.log | LC_ALL=C sort >>"$S"
done
log "done (exactness $([[ $status == 0 ]] && echo passed || echo FAILED))"
cat "$S"
exit $status
