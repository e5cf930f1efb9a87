#!/usr/bin/env bash
# The first load of a fresh process on a GPU machine: what an engine pays once per start.
# Builds dq, writes the >= 2 GB bench model (page cache), runs the set-up probe
# (tests/loader/probe/setup_probe.cu) unless NO_PROBE=1, then `dq load FILE` in fresh
# processes, ROUNDS rounds over the variants in VARIANTS (each "NAME:ENV=VAL,ENV=VAL", "base"
# for none), interleaved so each variant sees the same host, and prints per-variant medians.
#   usage: VARIANTS="base pread:DQ_LOAD_COPY=pread" ROUNDS=5 scripts/device-first-load.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
BUILD=${BUILD:-build-device-loader}
LOG="$OUT/first-load.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

say "== $(date -u) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"
say "== host: $(nproc) cpus, $(free -g | awk '/Mem/{print $2" GiB, "$6" GiB buff/cache"}'), up $(cut -d' ' -f1 /proc/uptime) s"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  >"$OUT/first-load-build.log" 2>&1 && ninja -C "$BUILD" dq-cuda dq-cpu dq >>"$OUT/first-load-build.log" 2>&1 ||
  { tail -30 "$OUT/first-load-build.log"; exit 1; }
MODEL=${MODEL:-/tmp/dq-bench-model.gguf}
if [[ ! -f $MODEL ]]; then
  DQ_BENCH_KEEP_MODEL=$MODEL "$BUILD/bin/dq" load --bench-model "${BENCH_GB:-2}" --repeat 1 \
    >"$OUT/first-load-bench.log" 2>&1 || { tail "$OUT/first-load-bench.log"; exit 1; }
fi
cat "$MODEL" >/dev/null  # in the page cache
say "== model $MODEL: $(stat -c %s "$MODEL") bytes"
if [[ -z ${NO_PROBE:-} ]]; then
  nvcc -O2 -arch=sm_90 -std=c++17 -o "$BUILD/setup_probe" tests/loader/probe/setup_probe.cu &&
    timeout 120 "$BUILD/setup_probe" 2>&1 | tee -a "$LOG"
fi
for r in $(seq "${ROUNDS:-5}"); do
  for v in ${VARIANTS:-base}; do
    name=${v%%:*}
    envs=()
    [[ $v == *:* ]] && IFS=, read -ra envs <<<"${v#*:}"
    sleep "${PROCESS_GAP:-2}"
    line=$(env "${envs[@]}" "$BUILD/bin/dq" load "$MODEL" --no-progress 2>&1 | grep -E "time:|load/bus|load trace" | tr '\n' ' ')
    say "[$name] round $r: $line"
  done
done
python3 - "$LOG" <<'PY' | tee -a "$LOG"
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\S+)\] round", line)
    if not m: continue
    g = lambda p: float(re.search(p, line).group(1)) if re.search(p, line) else float("nan")
    rows.setdefault(m.group(1), []).append((g(r"load/bus = (\d+)%"), g(r"\(pipeline (\d+)%\)"),
        g(r"staging ([\d.]+)"), g(r"outputs ([\d.]+)"), g(r"pipeline ([\d.]+) ms\)"), g(r"time: ([\d.]+) ms total")))
for name, v in rows.items():
    med = lambda i: statistics.median(x[i] for x in v)
    print(f"{name:>10}: n={len(v)} total {med(5):.1f} ms = staging {med(2):.1f} + outputs {med(3):.1f} "
          f"+ pipeline {med(4):.1f} ms; load/bus {med(0):.0f}% (range {min(x[0] for x in v):.0f}-"
          f"{max(x[0] for x in v):.0f}), pipeline/bus {med(1):.0f}%")
PY
