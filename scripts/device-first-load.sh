#!/usr/bin/env bash
# The first load of a fresh process on a GPU machine: what an engine pays once per start.
# Builds dq, writes the >= 2 GB bench model (page cache), runs the set-up probe
# (tests/loader/probe/setup_probe.cu) unless NO_PROBE=1, then `dq load FILE` in fresh
# processes, ROUNDS rounds over the variants in VARIANTS (each "NAME:ENV=VAL,ENV=VAL", "base"
# for none), interleaved so each variant sees the same host, and prints per-variant medians.
# (scripts/device-speed.sh runs the same first loads after its kernel measurements.)
# The rounds go to first-load.log (in logs.tgz), the medians to first-load-summary.log.
# DRY_RUN=1 prints the steps without running them.
#   usage: VARIANTS="base pread:DQ_LOAD_COPY=pread" ROUNDS=5 scripts/device-first-load.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
dev_init first-load-summary.log
BUILD=${BUILD:-build-device-loader}

log "$(date -u) $(run_or_print nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
log "host: $(nproc) cpus, $(free -g | awk '/Mem/{print $2" GiB, "$6" GiB buff/cache"}'), up $(cut -d' ' -f1 /proc/uptime) s"
dev_build . "$BUILD" "$OUT/first-load-build.log" -- dq-cuda dq-cpu dq || dev_build_failed "$OUT/first-load-build.log"
MODEL=${MODEL:-/tmp/dq-bench-model.gguf}
if [[ ! -f $MODEL ]]; then
  dev_bench_model "$BUILD/bin/dq" "$MODEL" "${BENCH_GB:-2}" "$OUT/first-load-bench.log" || exit 1
fi
dev_dry || cat "$MODEL" >/dev/null  # in the page cache
log "model $MODEL: $(stat -c %s "$MODEL" 2>/dev/null) bytes"
if [[ -z ${NO_PROBE:-} ]]; then
  run_or_print nvcc -O2 -arch=sm_90 -std=c++17 -o "$BUILD/setup_probe" tests/loader/probe/setup_probe.cu &&
    run_or_print timeout 120 "$BUILD/setup_probe" 2>&1 | tee -a "$S"
fi
dev_first_loads "$BUILD/bin/dq" "$MODEL" "${ROUNDS:-5}" "${VARIANTS:-base}" "$OUT/first-load.log"
