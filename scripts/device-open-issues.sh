#!/usr/bin/env bash
# The device proof the open issues still need (15: Vulkan on NVIDIA; 17: GPU speed), as two
# calls of at most 600 s each, so a session with a lent GPU spends its 1800 s of device time
# measuring rather than composing calls (a cold start costs ~150-175 s; a warm machine idles
# out after 30 s, so send the second call right after the first).
#
#   here:   scripts/device-open-issues.sh prepare
#           the Vulkan pack (.devrun/vulkan: binaries built here, the GPU machine has no glslc)
#           and its loader debs (.gl), and the test data (.devdata/testdata, 34 MB).
#   there:  scripts/device-open-issues.sh vulkan   (carry: .devrun .gl .devdata; summary of the
#           defaults in defaults-summary.log, then the old default's rows beside them)
#             issue 15: goldens to f32/f16/bf16 on the shipped defaults (prefetch shaders,
#             hardware f16 narrowing where its probe passes) and the earlier ones, the narrow
#             probe's verdict, conformance, `dq bench --backend vulkan` of every type to f16
#             and f32 at 256M elements beside vkCmdCopyBuffer of the same bytes, and `dq load`
#             of the 2 GB bench model to vulkan:0 beside the pinned host-to-device rate.
#           scripts/device-open-issues.sh cuda     (carry: .devdata)
#             issue 17: builds for sm_90 there; goldens, conformance, the graph-capture tests
#             and compute-sanitizer memcheck over them, dq-cuda-bench at 256M (every type to
#             f16/f32/bf16 against the same-run copy), the size and batch rows to f16, bf16 and
#             f32, and 7 rounds of fresh `dq load` processes of the 2 GB bench model, the
#             prepared ring (default) interleaved with DQ_LOAD_PREPARE=0.
# Each prints its summary last; logs come back in $OUT/logs.tgz. DRY_RUN=1 prints the plan.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

case ${1:-} in
prepare)
  bash scripts/device-vulkan.sh pack || exit 1
  mkdir -p .devdata
  rm -rf .devdata/testdata
  cp -r "${DQ_TESTDATA:-../shared/testdata}" .devdata/testdata || exit 1
  du -sh .devrun .gl .devdata
  ;;
vulkan)
  # Steps 0-5 of device-vulkan.sh (its copy probe is skipped: it was read on 2026-12-05),
  # then the old default's goldens and rows beside the new one (VARIANTS runs steps 0, 1, 6).
  NO_PROBE=1 BENCH_ARGS=${BENCH_ARGS:---min-sample-ms 50} bash scripts/device-vulkan.sh
  first=$?
  OUT=${OUT:-$PWD/device-out}
  [[ -f $OUT/summary.log ]] && mv "$OUT/summary.log" "$OUT/defaults-summary.log"
  OUT=$OUT VARIANT_TESTS=0 VARIANT_TYPES=${VARIANT_TYPES:-tq1_0,iq4_xs,q4_0,q8_0,q4_K,f16} \
    VARIANTS="default run:DQ_VULKAN_SHADER=run,DQ_VULKAN_NARROW=sw" bash scripts/device-vulkan.sh
  exit $((first | $?))
  ;;
cuda)
  EXTRA_TARGETS=dq_cuda_graph_tests EXTRA_TESTS=dq_cuda_graph_tests MEMCHECK=dq_cuda_graph_tests \
    SHAPES=f16,bf16,f32 ROUNDS=${ROUNDS:-7} \
    VARIANTS="prepared:DQ_LOAD_TRACE=1 unprepared:DQ_LOAD_PREPARE=0,DQ_LOAD_TRACE=1" \
    exec bash scripts/device-speed.sh
  ;;
*)
  echo "usage: scripts/device-open-issues.sh prepare|vulkan|cuda" >&2
  exit 2
  ;;
esac
