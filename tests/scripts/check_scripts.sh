#!/usr/bin/env bash
# CPU checks of scripts/ (the device scripts run only on the coordinator's lent GPU machine):
#   check_scripts.sh ROOT syntax      bash -n on every script
#   check_scripts.sh ROOT shellcheck  shellcheck (exit 77 = skipped when it is not installed)
#   check_scripts.sh ROOT dry-run     DRY_RUN=1 of every device script: the printed plan holds
#                                     the builds, tests and timings its settings ask for, and
#                                     nothing is built or run (cmake, ninja, nvidia-smi, ... are
#                                     stubs here that record any call)
set -uo pipefail
ROOT=$(cd "${1:?usage: check_scripts.sh ROOT syntax|shellcheck|dry-run}" && pwd)
MODE=${2:?mode}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

case $MODE in
syntax)
  for f in "$ROOT"/scripts/*.sh "$ROOT"/scripts/lib/*.sh; do
    bash -n "$f" || fail "bash -n ${f#"$ROOT"/}"
  done
  ;;
shellcheck)
  command -v shellcheck >/dev/null || { echo "shellcheck not installed (Debian package shellcheck): skipped"; exit 77; }
  cd "$ROOT" || exit 1
  # The device scripts and their library at warning level; the others (not written with it
  # in mind) at error level.
  shellcheck -x -S warning scripts/device-*.sh scripts/lib/*.sh || fail "shellcheck -S warning (device scripts)"
  others=()
  for f in scripts/*.sh; do [[ $f == scripts/device-* ]] || others+=("$f"); done
  shellcheck -x -S error "${others[@]}" || fail "shellcheck -S error (other scripts)"
  ;;
dry-run)
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  # A copy of scripts/ as its own tree: whatever a dry run would create shows up there, and
  # the checkout's .devrun tarballs do not take part.
  mkdir -p "$WORK/tree" "$WORK/stubs"
  cp -r "$ROOT/scripts" "$WORK/tree/"
  # The stubs fail, so a script whose dry run broke stops at its build, before a probe
  # writes gigabytes or a benchmark starts.
  for tool in cmake ninja nvidia-smi nvcc ctest compute-sanitizer ncu dpkg ldconfig; do
    printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 3\n' "$tool" "$WORK" >"$WORK/stubs/$tool"
    chmod +x "$WORK/stubs/$tool"
  done
  export PATH="$WORK/stubs:$PATH" DRY_RUN=1 DQ_TESTDATA=/testdata JOBS=4
  n=0
  # dry SCRIPT [ARGS]: runs it into a fresh OUT; the plan is in $plan, the output folder $out.
  dry() {
    n=$((n + 1)); out=$WORK/out-$n; plan=$WORK/plan-$n
    OUT=$out bash "$WORK/tree/scripts/$1" "${@:2}" >"$plan" 2>&1
    local rc=$?
    ((rc == 0)) || fail "$* exit $rc: $(tail -3 "$plan")"
    grep -E "No such file|unbound variable|command not found|syntax error" "$plan" && fail "$*: errors above"
    local left
    left=$(cd "$out" && ls -A | grep -vE '^(logs(-[0-9]+)?\.tgz|[a-z-]*summary\.log)$')
    [[ -z $left ]] || fail "$*: \$OUT holds more than the summary and logs.tgz: $left"
  }
  expect() {  # expect COUNT REGEX WHAT: that many plan lines match
    local got
    got=$(grep -cE -- "$2" "$plan")
    [[ $got == "$1" ]] || fail "plan $n: $3: $got lines match '$2', expected $1"
  }

  # device-speed.sh as the coordinator calls it (.devrun/callB.sh): kernel variants (b has a's
  # flags, so it reuses a's build), tuning runs, first-load variants, and a base tarball.
  : >"$WORK/base.tgz"
  BASE_TAR=$WORK/base.tgz OLD_TAR=$WORK/none ROUNDS=2 KERNEL_VARIANT_TESTS=a VARIANT_TIMEOUT=77 \
    KERNEL_VARIANTS="a:-DDQ_GPU_THREADS=128 b:-DDQ_GPU_THREADS=128,DQ_CUDA_BLOCKS_PER_SM=3 c:-DDQ_GPU_TILE_STAGES=4,-DDQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM=4" \
    TUNE="DQ_CUDA_BLOCKS_PER_SM=4 DQ_CUDA_BLOCKS_PER_SM=2" EXTRA_TARGETS=dq_loader_gpu_tests EXTRA_TESTS=dq_loader_gpu_tests \
    VARIANTS="register:DQ_LOAD_RING_PIN=register,DQ_LOAD_TRACE=1 populate:DQ_LOAD_RING_PIN=populate,DQ_LOAD_TRACE=1" \
    dry device-speed.sh
  expect 1 '^\+ cmake -S \. -B build-device .*-DCMAKE_CUDA_ARCHITECTURES=90' "the default build"
  expect 1 '^\+ ninja -C build-device -j4 dq dq-cpu dq-cuda dq-cuda-bench dq-conformance dq_loader_gpu_tests$' "its targets"
  expect 1 '^\+ cmake -S \. -B build-kv-a .*-DCMAKE_CUDA_FLAGS=-DDQ_GPU_THREADS=128$' "variant a's build"
  expect 0 '^\+ cmake .* -B build-kv-b ' "no second build of a's flags"
  expect 1 '^\+ ln -s build-kv-a build-kv-b$' "b reuses a's build"
  expect 1 '^\+ cmake -S \. -B build-kv-c .*-DCMAKE_CUDA_FLAGS=-DDQ_GPU_TILE_STAGES=4\\ -DDQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM=4$' "variant c's build"
  expect 1 '^\+ cmake -S /tmp/dq-base -B build-kv-base ' "the base build"
  expect 5 '^\+ .*dq-cuda-bench --no-cpu --elements 268435456 --outs f16,f32,bf16 --runs 9' "default + 4 variant benches"
  expect 1 '^\+ env DQ_CUDA_BLOCKS_PER_SM=3 timeout 77 build-device/bin/dq-cuda-bench .*--plugin-dir build-kv-b/lib/dq' "b's env, within VARIANT_TIMEOUT"
  expect 1 '^\+ env .*DQ_TEST_PLUGIN_DIR=build-kv-a/test-plugins timeout 77 build-device/bin/dq_cuda_tests' "a's goldens, within VARIANT_TIMEOUT"
  expect 1 '^\+ env timeout 77 build-device/bin/dq-conformance --plugin build-kv-a/lib/dq/libdq-cuda\.so' "a's conformance"
  expect 0 'build-kv-[bc]/test-plugins' "no variant but a tested"
  expect 1 '^\+ env DQ_CUDA_BLOCKS_PER_SM=4 build-device/bin/dq-cuda-bench .*--outs f16 --runs 7' "tune 4"
  expect 1 '^\+ env DQ_CUDA_BLOCKS_PER_SM=2 build-device/bin/dq-cuda-bench .*--outs f16 --runs 7' "tune 2"
  expect 1 '^\+ timeout 300 build-device/bin/dq_loader_gpu_tests$' "the extra test"
  expect 1 '^\+ build-device/bin/dq_cuda_tests$' "the golden tests"
  expect 4 '^\+ env DQ_LOAD_RING_PIN=[a-z]+ DQ_LOAD_TRACE=1 build-device/bin/dq load /tmp/dq-bench-model\.gguf --no-progress$' "2 rounds x 2 first loads"
  expect 2 '^ +(register|populate): n=2 ' "per-variant first-load medians"
  # grep -q would leave at the first match and tar could die of SIGPIPE, failing the pipe.
  tar tzf "$out/logs.tgz" | grep -x build.log >/dev/null || fail "device-speed.sh: build.log not in logs.tgz"
  grep -q "done (tests passed)" "$out/summary.log" || fail "device-speed.sh: no closing line in summary.log"

  # A second script into the same OUT keeps the first one's archive.
  OUT=$out bash "$WORK/tree/scripts/device-first-load.sh" >/dev/null 2>&1
  [[ -f $out/logs.tgz && -f $out/logs-2.tgz ]] || fail "a second script into the same OUT: $(ls "$out")"

  # What scripts/issue17-batch-device.sh was.
  NO_BENCH=1 SHAPES=f16 SHAPE_TYPES=q4_K,q6_K,q8_0,q4_0,iq4_xs SHAPE_ROWS=1 EXTRA_TARGETS=dq_cuda_graph_tests \
    EXTRA_TESTS=dq_cuda_graph_tests MEMCHECK=dq_cuda_graph_tests CONFORMANCE_FILTERS="*/batch/* */handshake/*" \
    BASE_TAR=$WORK/none OLD_TAR=$WORK/none dry device-speed.sh
  expect 1 'ninja -C build-device .* dq_cuda_graph_tests$' "graph tests built"
  expect 1 '^\+ timeout 300 build-device/bin/dq_cuda_graph_tests$' "graph tests run"
  expect 1 '^\+ env DQ_CUDA_TEST_QUICK=1 timeout 300 compute-sanitizer --tool memcheck .*--leak-check full .*build-device/bin/dq_cuda_graph_tests$' "graph tests under memcheck"
  expect 1 'dq-conformance --plugin build-device/lib/dq/libdq-cuda\.so --filter \*/batch/\* --filter \*/handshake/\*$' "filtered conformance"
  expect 1 '^\+ build-device/bin/dq bench --backend cuda --shapes default --types q4_K,q6_K,q8_0,q4_0,iq4_xs --to f16$' "shapes"
  expect 1 '^\+ build-device/bin/dq bench --backend cuda --types q4_K,q6_K,q8_0,q4_0,iq4_xs --to f16$' "256M rows"
  expect 0 'bin/dq-cuda-bench' "no kernel bench"
  expect 0 'build-kv-' "no variant builds"

  # What scripts/device-shared-kernels.sh was.
  BASE_TAR=$WORK/base.tgz OLD_TAR=$WORK/none BENCH_OUTS=f16,f32 EXTRA_TARGETS=dq_cuda_decode_host_tests \
    EXTRA_TESTS=dq_cuda_decode_host_tests dry device-speed.sh
  expect 1 '^\+ timeout 300 build-device/bin/dq_cuda_decode_host_tests$' "decode host tests"
  expect 1 '^\+ env timeout 300 build-device/bin/dq-cuda-bench .*--outs f16,f32 .*--plugin-dir build-kv-base/lib/dq' "base bench"

  # The open issues' two device calls (scripts/device-open-issues.sh).
  DQ_TESTDATA=$WORK/none dry device-open-issues.sh cuda
  expect 1 'compute-sanitizer --tool memcheck .*build-device/bin/dq_cuda_graph_tests$' "open issues: graph tests under memcheck"
  expect 3 '^\+ build-device/bin/dq bench --backend cuda --shapes default --types all --to (f16|bf16|f32)$' "open issues: size rows"
  expect 14 '^\+ env (DQ_LOAD_PREPARE=0 )?DQ_LOAD_TRACE=1 build-device/bin/dq load /tmp/dq-bench-model\.gguf --no-progress$' "open issues: 7 x 2 first loads"
  # memcheck is the slowest step: it runs after the timings, so a call cut short has them.
  last_load=$(grep -nE 'bin/dq load /tmp/dq-bench-model' "$plan" | tail -1 | cut -d: -f1)
  memcheck=$(grep -n 'compute-sanitizer --tool memcheck' "$plan" | head -1 | cut -d: -f1)
  ((${memcheck:-0} > ${last_load:-0})) || fail "open issues cuda: memcheck (plan line ${memcheck:-none}) before the last first load (${last_load:-none})"
  dry device-open-issues.sh vulkan
  expect 2 '^\+ .*/bin/dq bench --backend vulkan --to f(16|32) --elements 268435456 --repeat 5 --min-sample-ms 50$' "open issues: vulkan rows"
  expect 2 '^\+ env DQ_VULKAN_SHADER=run DQ_VULKAN_NARROW=sw .*/bin/dq bench --backend vulkan --to f(16|32) ' "open issues: old default's rows"
  expect 3 '^\+ env DQ_LOAD_TRACE=1 .*/bin/dq load /tmp/dq-bench-model\.gguf --device vulkan:0 --no-progress$' "open issues: vulkan loads"
  [[ -f $out/defaults-summary.log ]] || fail "open issues vulkan: no defaults-summary.log"
  dry device-cuda.sh quick
  expect 0 '^\+ ninja -C build-device -j[0-9]+ dq$' "no dq tool in quick mode"
  expect 1 'racecheck .*OddBlockCounts/mxfp4' "quick racecheck"
  dry device-cuda.sh tune
  expect 3 '^\+ timeout 120 ncu ' "three ncu sections"
  expect 1 '^\+ env DQ_CUDA_STREAMING_STORES=0 build-device/bin/dq-cuda-bench --no-cpu --runs 15$' "tuning knob"
  dry device-final.sh
  expect 1 '^\+ env DQ_TEST_HYBRID=1 ctest --test-dir build-device ' "the whole ctest suite"
  dry device-loader.sh all
  expect 3 '^\+ env DQ_TEST_HYBRID=1 timeout 300 build-device-loader/bin/dq_loader_(gpu_|plan_|)tests$' "loader tests"
  expect 7 '^\+ build-device-loader/bin/dq load /tmp/dq-bench-model\.gguf --no-progress$' "7 fresh processes"
  dry device-hybrid.sh
  expect 1 'dq_loader_gpu_tests --gtest_filter=\*Hybrid\*$' "hybrid test"
  expect 1 '^\+ env DQ_BENCH_HYBRID=1 ' "hybrid bench after the test passed"
  GPUS=4 dry device-multi-gpu.sh
  expect 2 '^\+ .*--devices cuda:0,cuda:1 --split' "2 GPUs, tensor and layer"
  expect 2 '^\+ .*--devices cuda:0,cuda:1,cuda:2,cuda:3 --split' "4 GPUs"
  GPUS=1 dry device-multi-gpu.sh bench
  expect 2 '^\+ .*--devices cuda:0,cuda:0 --split' "one GPU split in two"
  ROUNDS=3 VARIANTS="base pread:DQ_LOAD_COPY=pread" dry device-first-load.sh
  expect 3 '^\+ env DQ_LOAD_COPY=pread ' "3 rounds of pread"
  dry device-python.sh
  expect 2 '^\+ python3 -m pytest ' "pytest runs"
  dry device-vulkan.sh
  expect 1 '^\+ .*/dq-conformance --plugin \.devrun/vulkan/lib/dq/libdq-vulkan\.so' "vulkan conformance"
  expect 2 '^\+ .*dq bench --backend vulkan --to f(16|32) ' "vulkan benches"

  [[ ! -s $WORK/called ]] || fail "a dry run called: $(sort -u "$WORK/called" | head -5)"
  extra=$(cd "$WORK/tree" && ls -A | grep -vx scripts)
  [[ -z $extra ]] || fail "a dry run created in the tree: $extra"
  echo "dry runs: $n"
  ;;
*) echo "unknown mode $MODE"; exit 2 ;;
esac
((failures == 0)) || { echo "$failures failure(s)"; exit 1; }
echo "ok ($MODE)"
