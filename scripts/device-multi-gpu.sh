#!/usr/bin/env bash
# Issue 20 on a GPU machine: one load over several GPUs, and tensor-parallel ranks loading only
# their shard. With N >= 2 GPUs (nvidia-h200-x2/-x4/-x8) every check runs on real GPUs; on ONE
# GPU the same checks run as "one real GPU split in two streams" (every listed device is GPU 0,
# each with its own pipeline: staging ring, streams, copy threads), which proves correctness
# and concurrency but not N links.
#   1. the multi-device loader tests on cuda: every tensor of the test models split in rows,
#      columns, tensor-parallel and layer plans reassembles to the CPU reference byte for byte
#   2. the 2 GB bench model: `dq load --bench-model 2 --devices ... --split tensor|layer`
#      against the same-run sum of per-link pinned host-to-device rates (target: >= 80% of
#      the sum, or the host's own copy limit as the reason), and the one-GPU load beside it
#   3. 2 ranks under torchrun: nccl on 2 GPUs (gloo with both ranks on GPU 0 when there is
#      one), the all-gather of the shards equals the whole tensor
# NVLink multicast stays off (the machine notes say why).
#
# Here, before the call: scripts/device-python.sh --prepare   (the wheel, for step 3)
# On the device: scripts/device-multi-gpu.sh [all|test|bench|torch]  (carry: .whl, .devdata)
#   GPUS=N uses the first N GPUs (default: all); BENCH_GB=2; REPEAT=5.
#   A call may run 10 minutes: run `test` (it builds, 3-5 min), then `bench`, then `torch`
#   in separate calls (the build folder stays between calls on a warm machine).
# Logs go to $OUT (or ./device-out), packed into logs.tgz at the end; multi-summary.log is the
# short form. DRY_RUN=1 prints the steps without running them (GPUS, default 1, sets the count).
# Not run yet: written in a session with no GPU (2026-12-05); the fake-device tests pass here.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
MODE=${1:-all}
dev_init multi-summary.log
BUILD=${BUILD:-build-device-multi}
BENCH_GB=${BENCH_GB:-2}
REPEAT=${REPEAT:-5}

if dev_dry; then found=1; else found=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | wc -l); fi
GPUS=${GPUS:-$found}
if ((GPUS < 1)); then echo "no GPU found (nvidia-smi)"; exit 1; fi
dev_header index,name,pcie.link.gen.max,pcie.link.width.max
{
  run_or_print nvidia-smi topo -m 2>/dev/null | head -12 || true
  lscpu | grep -E "Model name|Socket\(s\)|NUMA node" || true
} 2>&1 | tee -a "$S"
# The device lists: N real GPUs, or GPU 0 twice.
if ((GPUS >= 2)); then
  numbers=$(seq -s, 0 $((GPUS - 1)))
  log "$GPUS GPUs: $numbers"
else
  numbers=0,0
  log "one GPU: two pipelines to GPU 0 (one real GPU split in two streams)"
fi
cuda_list() { # first $1 entries of $numbers, as cuda:N,...
  echo "$numbers" | tr , '\n' | head -n "$1" | sed 's/^/cuda:/' | paste -sd,
}

log "configure and build"
dev_build . "$BUILD" "$OUT/multi-build.log" -DDQ_BUILD_TESTS=ON -DDQ_TESTDATA_DIR="$DQ_TESTDATA" -- \
  dq-cuda dq-cpu dq dq_loader_multi_device_tests || dev_build_failed "$OUT/multi-build.log"
run_or_print "$BUILD/bin/dq" backends 2>&1 | head -6 | tee -a "$S"

status=0
if [[ $MODE == all || $MODE == test ]]; then
  log "multi-device loader tests on cuda (devices $numbers)"
  run_or_print env DQ_MULTI_TEST_BACKEND=cuda DQ_MULTI_TEST_DEVICES=$numbers timeout 600 \
    "$BUILD/bin/dq_loader_multi_device_tests" >"$OUT/multi-tests.log" 2>&1 || status=1
  grep -E "^\[  (PASSED|FAILED|SKIPPED) \]|checked [0-9]+ parts" "$OUT/multi-tests.log" | tee -a "$S"
  grep -E -A4 "Failure$" "$OUT/multi-tests.log" | head -30
fi

if [[ $MODE == all || $MODE == bench ]]; then
  log "one-GPU load of the ${BENCH_GB} GB bench model (the single-device path, for comparison)"
  run_or_print timeout 600 "$BUILD/bin/dq" load --bench-model "$BENCH_GB" --device cuda:0 --repeat "$REPEAT" \
    >"$OUT/multi-bench-one.log" 2>&1 || status=1
  grep -E "loader|bus|GB/s" "$OUT/multi-bench-one.log" | head -12 | tee -a "$S"
  counts=2
  ((GPUS >= 4)) && counts="2 4"
  ((GPUS >= 8)) && counts="2 4 8"
  for n in $counts; do
    if ((GPUS >= 2)); then list=$(cuda_list "$n"); else list=cuda:0,cuda:0; fi
    for split in tensor layer; do
      log "bench: --devices $list --split $split"
      run_or_print timeout 600 "$BUILD/bin/dq" load --bench-model "$BENCH_GB" --devices "$list" --split "$split" \
        --repeat "$REPEAT" >"$OUT/multi-bench-$n-$split.log" 2>&1 || status=1
      grep -E "^  (cuda|all)|median|error|dq:" "$OUT/multi-bench-$n-$split.log" | tee -a "$S"
    done
    ((GPUS >= 2)) || break
  done
fi

if [[ $MODE == all || $MODE == torch ]]; then
  log "torchrun: 2 tensor-parallel ranks"
  if ls .whl/dq-*.whl >/dev/null 2>&1; then
    run_or_print python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl ||
      status=1
    export PYTHONPATH=/tmp/site
  fi
  model=$DQ_TESTDATA/stories260K-q4_k_m.gguf
  if ((GPUS >= 2)); then how=(nccl); else how=(gloo cuda); fi
  run_or_print timeout 300 python3 -m torch.distributed.run --standalone --nproc_per_node=2 \
    python/tests/tp_worker.py "$model" "${how[@]}" >"$OUT/multi-torchrun.log" 2>&1 || status=1
  grep -E "tp ok|differs|Error" "$OUT/multi-torchrun.log" | head -10 | tee -a "$S"
fi
log "status $status"
exit $status
