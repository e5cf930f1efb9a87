# shellcheck shell=bash
# The pieces every scripts/device-*.sh shares, sourced after `cd` to the repository root.
# The coordinator runs those scripts on a lent GPU machine; this machine has none, so
# DRY_RUN=1 prints each step instead of running it (tests/scripts checks the printed plan).
#
#   dev_init SUMMARY   OUT (./device-out), DQ_TESTDATA, JOBS, the summary file $S (emptied),
#                      and the packing of $OUT at exit (the device tool brings back at most
#                      8 files: the summary stays loose, everything else goes into logs.tgz)
#   log MSG            "== hh:mm:ss MSG" to the terminal and the summary
#   dev_header [FIELDS] date, GPU (nvidia-smi FIELDS), nvcc, host, into the summary
#   run_or_print CMD   runs CMD; with DRY_RUN=1 prints "+ CMD" to the terminal instead
#   dev_build SRC BUILD LOG [cmake args] -- [targets]   configure (Release, Ninja, sm_90 unless
#                      -DDQ_ENABLE_CUDA=OFF), then build the targets with JOBS (nproc) jobs
#   dev_build_failed LOG   the build's errors into the summary, then exit 1
#   variant_name / variant_flags / variant_envs SPEC   parts of "name:-DFLAG=V,ENV=V"
#   dev_bench_model DQ MODEL GB LOG   writes the >= GB llama-like bench model, in the page cache
#   dev_first_loads DQ MODEL ROUNDS VARIANTS LOG [OLD_DQ]   fresh `dq load MODEL` processes,
#                      interleaved over VARIANTS, per-variant medians into the summary

dev_dry() { [[ -n ${DRY_RUN:-} && ${DRY_RUN:-} != 0 ]]; }

# The plan is printed to the terminal the script started with, whatever a step redirects.
run_or_print() {
  if dev_dry; then
    local arg line=+
    for arg in "$@"; do
      if [[ $arg =~ ^[][A-Za-z0-9_./:=,@%+*-]+$ ]]; then line+=" $arg"; else line+=" $(printf '%q' "$arg")"; fi
    done
    echo "$line" >&"${DEV_TERMINAL:-1}"
    return 0
  fi
  "$@"
}

# A file a step needs: in a dry run the step that makes it only printed, so it counts as made.
dev_have() { dev_dry || [[ -e $1 ]]; }

log() { echo "== $(date -u +%T) $*" | tee -a "$S"; }

dev_init() {
  OUT=${OUT:-$PWD/device-out}
  mkdir -p "$OUT"
  export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
  JOBS=${JOBS:-$(nproc)}
  S="$OUT/${1:-summary.log}"
  : >"$S"
  exec {DEV_TERMINAL}>&1
  trap dev_pack_out EXIT
  dev_dry && log "DRY_RUN: printing the steps, running none"
  return 0
}

dev_header() {
  {
    date -u
    git log --oneline -1 2>/dev/null
    run_or_print nvidia-smi --query-gpu="${1:-name,driver_version,memory.total,clocks.max.sm}" --format=csv,noheader
    run_or_print nvcc --version | tail -1
    echo "host: $(nproc) cpus, up $(cut -d' ' -f1 /proc/uptime) s"
  } >>"$S" 2>&1
  cat "$S"
}

dev_build() {
  local src=$1 build=$2 buildlog=$3 args=()
  shift 3
  while (($#)) && [[ $1 != -- ]]; do args+=("$1"); shift; done
  (($#)) && shift
  [[ " ${args[*]} " == *" -DDQ_ENABLE_CUDA=OFF "* ]] || args=(-DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" "${args[@]}")
  run_or_print cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${args[@]}" >"$buildlog" 2>&1 || return 1
  (($#)) || return 0  # no targets: configure only
  run_or_print ninja -C "$build" -j"$JOBS" "$@" >>"$buildlog" 2>&1
}

dev_build_failed() {
  { grep -E "error|FAILED" "$1" | head -30; tail -5 "$1"; } | tee -a "$S"
  log "build failed (${1##*/})"
  exit 1
}

variant_name() { echo "${1%%:*}"; }
# Items after the colon, split at commas: those starting with "-" are compiler flags, the
# others environment settings (ENV=V) for every run of that variant.
variant_items() {
  [[ $1 == *:* ]] || return 0
  local item items
  IFS=, read -ra items <<<"${1#*:}"
  for item in "${items[@]}"; do
    [[ -z $item ]] && continue
    if [[ $2 == flags ]]; then [[ $item == -* ]] && echo "$item"; else [[ $item == -* ]] || echo "$item"; fi
  done
  return 0
}
variant_flags() { variant_items "$1" flags | paste -sd' '; }
variant_envs() { variant_items "$1" envs | paste -sd' '; }

dev_bench_model() {
  local dq=$1 model=$2 gb=$3 modellog=$4
  run_or_print env DQ_BENCH_KEEP_MODEL="$model" "$dq" load --bench-model "$gb" --repeat 1 >"$modellog" 2>&1 ||
    { log "bench model: $(tail -2 "$modellog")"; return 1; }
  dev_dry || cat "$model" >/dev/null  # in the page cache
}

# An engine loads once per process: each round starts every variant once, PROCESS_GAP (2) s
# after the one before exited (the device frees a process's memory in the background).
dev_first_loads() {
  local dq_new=$1 model=$2 rounds=$3 variants=$4 roundlog=$5 dq_old=${6:-} r v name dq line envs
  for r in $(seq "$rounds"); do
    for v in $variants; do
      name=$(variant_name "$v")
      read -ra envs <<<"$(variant_envs "$v")"
      dq=$dq_new
      [[ $name == old* && -n $dq_old ]] && dq=$dq_old
      dev_dry || sleep "${PROCESS_GAP:-2}"
      line=$(run_or_print env "${envs[@]}" "$dq" load "$model" --no-progress 2>&1 |
        grep -E "time:|load/bus|load trace|error" | tr '\n' ' ')
      echo "[$name] round $r: $line" | tee -a "$roundlog"
    done
  done
  python3 "$(dirname "${BASH_SOURCE[0]}")/first_load_summary.py" "$roundlog" | tee -a "$S"
}

# At exit: the summaries stay loose, every other file of $OUT goes into one archive
# (logs.tgz, or logs-2.tgz ... when an earlier script of the same call left one).
dev_pack_out() {
  local files archive n=2
  (
    cd "$OUT" || exit 0
    mapfile -t files < <(find . -maxdepth 1 -type f ! -name '*summary.log' ! -name 'logs*.tgz' -printf '%f\n' | sort)
    ((${#files[@]})) || exit 0
    archive=logs.tgz
    while [[ -e $archive ]]; do archive=logs-$n.tgz; n=$((n + 1)); done
    tar czf "$archive" -- "${files[@]}" && rm -f -- "${files[@]}"
  )
}
