#!/usr/bin/env bash
# Issue 15 on the GPU machine: the vulkan plugin through NVIDIA's driver.
#
# The GPU machine has NVIDIA's driver but no Vulkan loader, no Vulkan headers and no glslc,
# so everything is built here and carried:
#   here:   scripts/device-vulkan.sh pack
#           builds dq, the cpu and vulkan plugins, dq-conformance and the vulkan tests in
#           $BUILD (build-vulkan), copies them stripped into .devrun/vulkan (about 15 MB), and
#           downloads libvulkan1 (the loader; it depends on libc6 only) into .gl/.
#   there:  scripts/device-vulkan.sh        (carry: .devrun/vulkan .gl .devdata)
#     0. unpacks .gl/*.deb into / (ldconfig); when the loader finds no driver, points
#        VK_DRIVER_FILES at NVIDIA's ICD manifest;
#     1. device listing: `dq backends` (device, driver name and version) and the loader's
#        driver log (VK_LOADER_DEBUG=driver), the evidence when no device comes up;
#     2. the vulkan gtests (goldens of every type to f32/f16/bf16, device memory, streams,
#        events, loader models) with the Khronos validation layer when installed, on the
#        shipped defaults (DQ_VULKAN_SHADER=default: prefetch to f16/bf16, run to f32; hardware f16 narrowing where its init
#        probe passes) and the goldens on the earlier ones (DQ_VULKAN_SHADER=run,
#        DQ_VULKAN_NARROW=sw), and the narrow probe's verdict (dq_vulkan_narrow_tests);
#     3. dq-conformance --plugin libdq-vulkan.so against the cpu plugin;
#     3b. dq_vulkan_copy_probe: vkCmdCopyBuffer of 256 MiB and 1 GiB on every queue family
#        (timestamps inside the command buffer), 4 copies in one command buffer, 4 submissions
#        with the plugin's barriers, a compute-shader copy, and the plugin's own mem_copy as
#        dq bench times it (probe.log; runs even with NO_TESTS, skip with NO_PROBE=1);
#     4. dq bench --backend vulkan, every type to f16 and f32 at 256M elements: each row beside a
#        device-to-device mem_copy of the same bytes (vkCmdCopyBuffer) timed in the same run;
#     5. dq load of the 2 GB bench model to vulkan:0, f16 (DQ_LOAD_TRACE=1), with the pinned
#        host-to-device rate of the same run (the "load/bus" line); loads 4 and 5 with the
#        output arena allocated in the background (DQ_VULKAN_ASYNC_ALLOC=1, 4 and 8 threads).
# Logs go to $OUT (./device-out), packed into logs.tgz at the end; a summary (summary.log) is
# printed last. DRY_RUN=1 prints the device steps without running them. Skip steps: NO_TESTS=1,
# NO_BENCH=1, NO_LOAD=1; BENCH_OUTS (f16,f32), BENCH_ELEMENTS (268435456), BENCH_ARGS (more dq bench
# options, e.g. "--verbose --min-sample-ms 50"); BENCH_PER_ELEMENT=1
# also times the per-element shader path (DQ_VULKAN_PATH=per-element) after each bench.
#
# Shader variants (issue 15; all in the one pack, chosen per process by environment, see
# docs/VULKAN.md, plugins/vulkan/pipelines.hpp and narrow_probe.hpp). The defaults: prefetch
# shaders to f16/bf16 and run shaders to f32 (DQ_VULKAN_SHADER=default; prefetch, run or staged for every output) and f16 by
# the device's RoundingModeRTE conversion where its init probe is bit-exact
# (DQ_VULKAN_NARROW=hw; sw: the earlier software narrowing; branches).
# VARIANTS="name:ENV=V,ENV=V ..." (or VARIANTS=auto: "default" (prefetch + hw) against "run"
# (the earlier default: DQ_VULKAN_SHADER=run,DQ_VULKAN_NARROW=sw), "prefetch-sw" (prefetch
# alone), "run-hw" (hw alone), "staged" and "staged-sw"; VARIANTS=tiles: the staged and
# prefetch tile, workgroup size and workgroup count knobs; VARIANTS=narrow: f16 narrowing
# variants only) runs steps 0, 1 and 6 only:
#     6a. per variant, the default included: the narrow probe's verdict (dq backends), the
#         golden gtests (every type to f32/f16/bf16, odd counts, odd offsets, batches) and
#         dq-conformance; one that fails is not timed;
#     6b. per output (VARIANT_OUTS, f16 f32), every passing variant in turn:
#         dq bench --backend vulkan --elements $BENCH_ELEMENTS --repeat 3 --types $VARIANT_TYPES
#         (all), then one table of GB/s per type and variant (variants-<out>.txt).
#   VARIANT_TESTS=0 skips 6a (timing only), VARIANT_CONFORMANCE=0 its conformance runs. Examples (each step's seconds are logged):
#     VARIANTS=auto scripts/device-vulkan.sh
#     VARIANTS="default staged:DQ_VULKAN_SHADER=staged,DQ_VULKAN_STAGE_ELEMENTS=4096" scripts/device-vulkan.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
PACK=.devrun/vulkan

if [[ ${1:-} == pack ]]; then
  BUILD=${BUILD:-build-vulkan}
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDQ_ENABLE_CUDA=OFF \
    -DDQ_ENABLE_VULKAN=ON >/dev/null || exit 1
  nice ninja -C "$BUILD" -j2 dq dq-cpu dq-vulkan dq-conformance dq_vulkan_tests dq_vulkan_loader_tests \
    dq_vulkan_copy_probe dq_vulkan_path_tests dq_vulkan_narrow_tests || exit 1
  rm -rf "$PACK"
  mkdir -p "$PACK/bin" "$PACK/lib/dq"
  for f in dq dq-conformance dq_vulkan_tests dq_vulkan_loader_tests dq_vulkan_copy_probe dq_vulkan_path_tests \
    dq_vulkan_narrow_tests; do
    strip -o "$PACK/bin/$f" "$BUILD/bin/$f" || exit 1
  done
  # The soname the binaries ask for.
  strip --strip-unneeded -o "$PACK/lib/libdq-core.so.0" "$(readlink -f "$BUILD/lib/libdq-core.so.0")" || exit 1
  for p in cpu vulkan; do
    strip --strip-unneeded -o "$PACK/lib/dq/libdq-$p.so" "$BUILD/lib/dq/libdq-$p.so" || exit 1
  done
  git rev-parse HEAD >"$PACK/commit"
  mkdir -p .gl
  ls .gl/libglvnd0_*.deb >/dev/null 2>&1 || (cd .gl && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2) || exit 1  # NVIDIA's ICD is a GLVND library
  du -sh "$PACK" .gl .devdata 2>/dev/null
  exit 0
fi

dev_init summary.log
dev_have "$PACK/bin/dq" || { echo "no $PACK/bin/dq: run 'scripts/device-vulkan.sh pack' here and carry $PACK"; exit 1; }
BIN=$PWD/$PACK/bin
export LD_LIBRARY_PATH=$PWD/$PACK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export DQ_TEST_PLUGIN_DIR=$PWD/$PACK/lib/dq  # the gtests open the plugins from here
echo "commit packed: $(cat $PACK/commit 2>/dev/null)" >>"$S"
dev_header name,driver_version,memory.total

log "0. Vulkan loader from .gl"
if dev_dry || ! ldconfig -p | grep libvulkan.so.1 >/dev/null; then
  for f in .gl/*.deb; do run_or_print dpkg -x "$f" / || log "dpkg -x $f failed"; done
  run_or_print ldconfig
fi
dev_dry || ldconfig -p | grep libvulkan.so.1 | tee -a "$S"
# In a dry run there is no device to count: one is assumed.
count_devices() { if dev_dry; then echo 1; else "$BIN/dq" backends 2>&1 | awk '$1 == "vulkan" {print $4}'; fi; }
if [[ "$(count_devices)" != [1-9]* && -z ${VK_DRIVER_FILES:-} ]]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
             /etc/vulkan/icd.d/nvidia_icd.json; do
    if [[ -f $icd ]]; then export VK_DRIVER_FILES=$icd; break; fi
  done
  log "no Vulkan device found by default; VK_DRIVER_FILES=${VK_DRIVER_FILES:-<no NVIDIA ICD manifest found>}"
fi

log "1. devices (dq backends; the loader's driver log in $OUT/loader-debug.log)"
run_or_print "$BIN/dq" backends 2>&1 | tee "$OUT/backends.log" | grep -A3 "^vulkan" | tee -a "$S"
run_or_print env VK_LOADER_DEBUG=error,warn,driver "$BIN/dq" backends >"$OUT/loader-debug.log" 2>&1
if [[ "$(count_devices)" != [1-9]* ]]; then
  log "NO VULKAN DEVICE: evidence below and in $OUT/loader-debug.log"
  grep -iE "error|warn|driver|icd|nvidia" "$OUT/loader-debug.log" | head -40 | tee -a "$S"
  ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | tee -a "$S"
  ldconfig -p | grep -iE "GLX_nvidia|nvidia-glcore|libnvidia-gpucomp" | tee -a "$S"
  exit 1
fi

# VARIANTS: steps 0, 1 and 6 only. Presets: auto (the shipped defaults, prefetch + hw
# narrowing, against the earlier default run + sw, each of the two alone, and staged with
# either narrowing), tiles (the staged/prefetch knobs), narrow (f16 only: hw, sw and branches
# narrowing on the prefetch, run and staged shaders).
if [[ -n ${VARIANTS:-} ]]; then
  case $VARIANTS in
    auto) VARIANTS="default run:DQ_VULKAN_SHADER=run,DQ_VULKAN_NARROW=sw prefetch-sw:DQ_VULKAN_NARROW=sw \
run-hw:DQ_VULKAN_SHADER=run staged:DQ_VULKAN_SHADER=staged staged-sw:DQ_VULKAN_SHADER=staged,DQ_VULKAN_NARROW=sw" ;;
    narrow) VARIANTS="default sw:DQ_VULKAN_NARROW=sw branches:DQ_VULKAN_NARROW=branches run-hw:DQ_VULKAN_SHADER=run \
run:DQ_VULKAN_SHADER=run,DQ_VULKAN_NARROW=sw staged:DQ_VULKAN_SHADER=staged staged-sw:DQ_VULKAN_SHADER=staged,DQ_VULKAN_NARROW=sw"
      VARIANT_OUTS=${VARIANT_OUTS:-f16} ;;
    tiles) VARIANTS="default staged:DQ_VULKAN_SHADER=staged staged-4k:DQ_VULKAN_SHADER=staged,DQ_VULKAN_STAGE_ELEMENTS=4096 \
staged-16k:DQ_VULKAN_SHADER=staged,DQ_VULKAN_STAGE_ELEMENTS=16384 staged-t512:DQ_VULKAN_SHADER=staged,DQ_VULKAN_STAGE_THREADS=512 \
staged-t128:DQ_VULKAN_SHADER=staged,DQ_VULKAN_STAGE_THREADS=128 prefetch-g512:DQ_VULKAN_SHADER=prefetch,DQ_VULKAN_STAGE_GROUPS=512 \
prefetch-g2048:DQ_VULKAN_SHADER=prefetch,DQ_VULKAN_STAGE_GROUPS=2048" ;;
  esac
  NO_TESTS=1 NO_PROBE=1 NO_BENCH=1 NO_LOAD=1
fi

if [[ -z ${NO_TESTS:-} ]]; then
  log "2. vulkan gtests (goldens, device memory, streams/events, loader models)"
  export DQ_VULKAN_VALIDATION=${DQ_VULKAN_VALIDATION:-auto}
  run_or_print "$BIN/dq_vulkan_tests" >"$OUT/vulkan-tests.log" 2>&1; log "dq_vulkan_tests rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-tests.log" | tr '\n' ' ')"
  run_or_print env DQ_VULKAN_SEGMENT_BYTES=65536 DQ_VULKAN_HOST_IMPORT=0 "$BIN/dq_vulkan_tests" \
    --gtest_filter='VulkanDevice.TensorsAtOddOffsets*:VulkanDevice.Streams*' >"$OUT/vulkan-segments.log" 2>&1
  log "segments rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-segments.log" | tr '\n' ' ')"
  # The earlier defaults (unstaged run path, software narrowing): the goldens.
  run_or_print env DQ_VULKAN_SHADER=run DQ_VULKAN_NARROW=sw "$BIN/dq_vulkan_tests" \
    --gtest_filter='VulkanDevice.MatchesEveryGolden*:VulkanDevice.F32ToHalf*:VulkanDevice.OddCounts*:VulkanDevice.TensorsAtOdd*:VulkanBatch.*' \
    >"$OUT/vulkan-run-sw.log" 2>&1
  log "run path + sw narrowing (DQ_VULKAN_SHADER=run DQ_VULKAN_NARROW=sw) rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-run-sw.log" | tr '\n' ' ')"
  # The per-element shader path forced (the prefetch run path is the default above), and all
  # paths against the cpu plugin in one process (docs/VULKAN.md, "Device features each path needs").
  run_or_print env DQ_VULKAN_PATH=per-element "$BIN/dq_vulkan_tests" --gtest_filter='VulkanDevice.*' >"$OUT/vulkan-per-element.log" 2>&1
  log "per-element path rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-per-element.log" | tr '\n' ' ')"
  run_or_print "$BIN/dq_vulkan_path_tests" >"$OUT/vulkan-paths.log" 2>&1
  log "dq_vulkan_path_tests rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-paths.log" | tr '\n' ' ')"
  run_or_print "$BIN/dq_vulkan_loader_tests" >"$OUT/vulkan-loader-tests.log" 2>&1
  log "dq_vulkan_loader_tests rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-loader-tests.log" | tr '\n' ' ')"
  # The default narrowing: the probe's verdict on this device and its inputs exact either way
  # (plugins/vulkan/narrow_probe.hpp); a refusal is a valid outcome, its reason is logged.
  run_or_print env DQ_LOG=debug "$BIN/dq_vulkan_narrow_tests" >"$OUT/vulkan-narrow-tests.log" 2>&1
  log "dq_vulkan_narrow_tests (default narrowing) rc=$? $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/vulkan-narrow-tests.log" | tr '\n' ' ')"
  dev_dry || grep -ohE "vulkan narrow probe: .*" "$OUT/vulkan-narrow-tests.log" | sort -u | tee -a "$S"
  grep -E "^\[  FAILED  \]|Failure" "$OUT"/vulkan-*.log | head -20 | tee -a "$S"
  log "3. dq-conformance --plugin libdq-vulkan.so"
  run_or_print "$BIN/dq-conformance" --plugin "$PACK/lib/dq/libdq-vulkan.so" --reference "$PACK/lib/dq/libdq-cpu.so" \
    --testdata "$DQ_TESTDATA" --junit "$OUT/vulkan-junit.xml" >"$OUT/conformance.log" 2>&1
  log "conformance rc=$? $(grep -E '^dq-conformance:' "$OUT/conformance.log")"
  grep -E "^FAIL" "$OUT/conformance.log" | head -20 | tee -a "$S"
  unset DQ_VULKAN_VALIDATION  # timings below run without the layer
fi

if [[ -z ${NO_PROBE:-} ]]; then
  log "3b. copy probe: vkCmdCopyBuffer per queue family, shader copy, the plugin's mem_copy (GB/s = 2 x bytes / s)"
  run_or_print timeout 300 "$BIN/dq_vulkan_copy_probe" --plugin "$PACK/lib/dq/libdq-vulkan.so" >"$OUT/probe.log" 2>&1
  log "probe rc=$?"
  tee -a "$S" <"$OUT/probe.log"
fi

if [[ -z ${NO_BENCH:-} ]]; then
  for to in ${BENCH_OUTS:-f16 f32}; do
    to=${to//,/ }
    log "4. dq bench --backend vulkan --to $to --elements ${BENCH_ELEMENTS:=268435456} (copy GB/s = vkCmdCopyBuffer, same run)"
    # shellcheck disable=SC2086  # BENCH_ARGS is a list (e.g. "--verbose --min-sample-ms 50")
    run_or_print "$BIN/dq" bench --backend vulkan --to "$to" --elements "$BENCH_ELEMENTS" --repeat 5 ${BENCH_ARGS:-} \
      >"$OUT/bench-$to.log" 2>&1
    log "bench $to rc=$?"
    tee -a "$S" <"$OUT/bench-$to.log"
    if [[ -n ${BENCH_PER_ELEMENT:-} ]]; then  # the old shader path, same binaries, for comparison
      log "4'. the same with DQ_VULKAN_PATH=per-element"
      run_or_print env DQ_VULKAN_PATH=per-element "$BIN/dq" bench --backend vulkan --to "$to" --elements "$BENCH_ELEMENTS" \
        --repeat 3 >"$OUT/bench-$to-per-element.log" 2>&1
      tee -a "$S" <"$OUT/bench-$to-per-element.log"
    fi
  done
fi

if [[ -z ${NO_LOAD:-} ]]; then
  MODEL=/tmp/dq-bench-model.gguf
  log "5. dq load of the 2 GB bench model to vulkan:0"
  dev_bench_model "$BIN/dq" "$MODEL" 2 "$OUT/bench-model.log"
  for i in 1 2 3; do
    run_or_print env DQ_LOAD_TRACE=1 "$BIN/dq" load "$MODEL" --device vulkan:0 --no-progress >"$OUT/load-$i.log" 2>&1
    log "load $i rc=$? $(grep -E 'time:|throughput|load/bus|error' "$OUT/load-$i.log" | tr '\n' ' ')"
  done
  # The output arena's later segments allocated while the pipeline fills the first ones.
  for i in 4 5; do
    threads=$([[ $i == 4 ]] && echo 4 || echo 8)
    run_or_print env DQ_VULKAN_ASYNC_ALLOC=1 DQ_VULKAN_ALLOC_THREADS=$threads DQ_LOAD_TRACE=1 "$BIN/dq" load "$MODEL" \
      --device vulkan:0 --no-progress >"$OUT/load-$i.log" 2>&1
    log "load $i (DQ_VULKAN_ASYNC_ALLOC=1, $threads threads) rc=$? $(grep -E 'time:|throughput|load/bus|error' "$OUT/load-$i.log" | tr '\n' ' ')"
  done
fi
if [[ -n ${VARIANTS:-} ]]; then
  # shellcheck disable=SC2206  # VARIANTS is a list of words
  specs=($VARIANTS)
  passed=()
  for spec in "${specs[@]}"; do
    name=$(variant_name "$spec")
    read -ra envs <<<"$(variant_envs "$spec")"
    # The shipped defaults (no settings) too: steps 2 and 3 do not run with VARIANTS.
    if [[ ${VARIANT_TESTS:-1} == 0 ]]; then passed+=("$spec"); continue; fi
    log "6a. $name (${envs[*]:-no settings}): goldens and conformance"
    t0=$SECONDS
    # The shader variant, whether the init probe chose the hardware narrowing (else the
    # variant times the software one), and why not (plugins/vulkan/narrow_probe.hpp).
    run_or_print env ${envs[@]+"${envs[@]}"} DQ_LOG=debug "$BIN/dq" backends >"$OUT/variant-$name-backends.log" 2>&1
    dev_dry || grep -ohE "vulkan narrow probe: .*|shader variant: [a-z]+|f16 narrowing: [^;]*" "$OUT/variant-$name-backends.log" |
      sort -u | sed "s/^/$name: /" | tee -a "$S"
    run_or_print env ${envs[@]+"${envs[@]}"} "$BIN/dq_vulkan_tests" \
      --gtest_filter='VulkanDevice.MatchesEveryGolden*:VulkanDevice.F32ToHalf*:VulkanDevice.OddCounts*:VulkanDevice.TensorsAtOdd*:VulkanBatch.*' \
      >"$OUT/variant-$name-tests.log" 2>&1
    tests_rc=$?
    # VARIANT_CONFORMANCE=0: the golden gtests only (a short call; conformance takes ~50 s a variant).
    conf_rc=0
    if [[ ${VARIANT_CONFORMANCE:-1} != 0 ]]; then
      run_or_print env ${envs[@]+"${envs[@]}"} "$BIN/dq-conformance" --plugin "$PACK/lib/dq/libdq-vulkan.so" \
        --reference "$PACK/lib/dq/libdq-cpu.so" --testdata "$DQ_TESTDATA" >"$OUT/variant-$name-conformance.log" 2>&1
      conf_rc=$?
    fi
    log "$name: gtests rc=$tests_rc $(grep -E '^\[  (PASSED|FAILED) ' "$OUT/variant-$name-tests.log" 2>/dev/null | tr '\n' ' ')conformance rc=$conf_rc $(grep -E '^dq-conformance:' "$OUT/variant-$name-conformance.log" 2>/dev/null) ($((SECONDS - t0)) s)"
    if ((tests_rc == 0 && conf_rc == 0)); then
      passed+=("$spec")
    else
      grep -hE "^\[  FAILED  \]|Failure|^FAIL|mismatch" "$OUT/variant-$name-tests.log" "$OUT/variant-$name-conformance.log" 2>/dev/null |
        head -10 | tee -a "$S"
      log "$name NOT EXACT: not timed"
    fi
  done
  for to in ${VARIANT_OUTS:-f16 f32}; do
    to=${to//,/ }
    for spec in ${passed[@]+"${passed[@]}"}; do
      name=$(variant_name "$spec")
      read -ra envs <<<"$(variant_envs "$spec")"
      log "6b. $name: dq bench --backend vulkan --to $to --elements ${BENCH_ELEMENTS:=268435456}"
      t0=$SECONDS
      run_or_print env ${envs[@]+"${envs[@]}"} "$BIN/dq" bench --backend vulkan --to "$to" --elements "$BENCH_ELEMENTS" \
        --repeat 3 --types "${VARIANT_TYPES:-all}" >"$OUT/variant-$name-bench-$to.log" 2>&1
      log "$name bench $to rc=$? ($((SECONDS - t0)) s)"
    done
    # One table: GB/s (third column of the bench rows) per type, a column per variant.
    dev_dry || for spec in ${passed[@]+"${passed[@]}"}; do
      name=$(variant_name "$spec")
      awk -v v="$name" 'p && NF >= 3 && $3 ~ /^[0-9.]+$/ {print v, $1, $3} /^type /{p = 1}' "$OUT/variant-$name-bench-$to.log"
    done | awk '
      !($1 in seen_v) {seen_v[$1] = 1; vs[++nv] = $1}
      !($2 in seen_t) {seen_t[$2] = 1; ts[++nt] = $2}
      {g[$2, $1] = $3}
      END {
        if (nt == 0) exit
        printf "%-8s", "type"; for (i = 1; i <= nv; i++) printf " %12s", vs[i]; printf "\n"
        for (j = 1; j <= nt; j++) {
          printf "%-8s", ts[j]; for (i = 1; i <= nv; i++) printf " %12s", ((ts[j], vs[i]) in g ? g[ts[j], vs[i]] : "-"); printf "\n"
        }
      }' | tee "$OUT/variants-$to.txt" | tee -a "$S"
  done
fi
log "done"
echo; echo "==== summary ($S)"; cat "$S"
