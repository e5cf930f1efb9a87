#!/usr/bin/env bash
# The Rust bindings' checks (run by scripts/test.sh after the main build): installs build/ into
# a prefix, builds bindings/rust against it through pkg-config (dq.pc), runs `cargo test
# --offline` for dq-sys and dq (the multi-device tests again on the fake device of the C++
# tests, and prepare_load there with a staging ring to prepare), the load example on the CPU
# (and on cuda:0, which says it is skipped without a GPU),
# the split example, clippy and rustdoc with warnings as errors, then valgrind over the dq test
# binaries: no leak, no invalid access.
# Writes a JUnit report (one case per Rust test, plus the valgrind runs) to $1/rust.xml.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logdir=${1:-build/test-logs}
build=${DQ_BUILD_DIR:-build}   # the CMake build tree to install and test against
mkdir -p "$logdir" && logdir=$(cd "$logdir" && pwd)
export PATH="$PATH:$HOME/.cargo/bin"
data=${DQ_TESTDATA:-$root/../shared/testdata}
junit_cases=()
failed=0

case_xml() {  # case_xml NAME ok|fail|skip [message]
  local msg=${3:-}
  msg=${msg//&/&amp;}; msg=${msg//</&lt;}; msg=${msg//\"/&quot;}
  case $2 in
    ok) junit_cases+=("<testcase classname=\"rust\" name=\"$1\"/>") ;;
    skip) junit_cases+=("<testcase classname=\"rust\" name=\"$1\"><skipped message=\"$msg\"/></testcase>") ;;
    *) junit_cases+=("<testcase classname=\"rust\" name=\"$1\"><failure message=\"$msg\"/></testcase>"); failed=1 ;;
  esac
}
write_junit() {
  { echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"rust\" tests=\"${#junit_cases[@]}\">"
    printf '%s\n' "${junit_cases[@]}"
    echo '</testsuite>'; } >"$logdir/rust.xml"
}

if ! command -v cargo >/dev/null; then
  echo "rust: cargo not found"; case_xml cargo fail "cargo not installed"; write_junit; exit 1
fi
prefix=$root/$build/rust-prefix
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null || { case_xml install fail "cmake --install failed"; write_junit; exit 1; }
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
unset DQ_LIB_DIR
export CARGO_TARGET_DIR=$root/$build/rust-target
cd bindings/rust

# Tests (all features: the half::f16/bf16 outputs too), then the crate without features.
log=$logdir/rust-cargo-test.log
cargo test --offline --all-features -p dq-sys -p dq 2>&1 | tee "$log"
cargo_rc=${PIPESTATUS[0]}
while IFS=$'\t' read -r result name; do
  case $result in ok) case_xml "$name" ok ;; ignored) case_xml "$name" skip "ignored" ;; *) case_xml "$name" fail "$result" ;; esac
done < <(sed -n 's/^test \(.*\) \.\.\. \([A-Za-z]*\)$/\2\t\1/p' "$log")
[ "$cargo_rc" = 0 ] || case_xml "cargo test" fail "cargo test exited $cargo_rc (see $log)"
cargo build --offline -q -p dq || case_xml "dq without features" fail "cargo build -p dq failed"

# Lints: clippy with warnings as errors, and the API docs (private items too) without a
# broken link or bad markup. Skipped, saying so, where the toolchain has no clippy.
if cargo clippy --version >/dev/null 2>&1; then
  if out=$(cargo clippy --offline -q --all-features --all-targets -p dq-sys -p dq -- -D warnings 2>&1); then
    case_xml "clippy" ok
  else
    echo "$out" | tail -30; case_xml "clippy" fail "cargo clippy -D warnings: see the output above"
  fi
else
  case_xml "clippy" skip "cargo clippy is not installed"
fi
if out=$(RUSTDOCFLAGS="-D warnings" cargo doc --offline -q --no-deps --all-features --document-private-items \
           -p dq-sys -p dq 2>&1); then
  case_xml "cargo doc" ok
else
  echo "$out" | tail -30; case_xml "cargo doc" fail "cargo doc -D warnings: see the output above"
fi

# A test binary of dq again on the fake asynchronous device of the C++ tests (its own streams
# and memory), when the build tree has it: fake_device_test CASE TEST EXPECTED-OUTPUT ENV...
fake=$root/$build/tests/loader/fakeplugins
fake_device_test() {
  local name=$1 test=$2 expect=$3 out
  shift 3
  if [ ! -d "$fake" ]; then
    case_xml "$name" skip "no $fake (the C++ tests were not built)"
  elif out=$(env DQ_PLUGIN_PATH="$fake" "$@" cargo test --offline -q --all-features -p dq \
               --test "$test" -- --nocapture 2>&1) && grep -q "$expect" <<<"$out"; then
    case_xml "$name" ok
  else
    echo "$out" | tail -30; case_xml "$name" fail "see the output above"
  fi
}
# The multi-device tests on 2 fake devices instead of host memory twice.
fake_device_test "multi_device on fakeasync" multi_device "devices: fakeasync" DQ_FAKEASYNC_DEVICES=2
# prepare_load with host registration, so there is a staging ring to prepare (on host memory
# the hint does nothing).
fake_device_test "prepare on fakeasync" prepare "device: fakeasync:0" DQ_FAKEASYNC_HOST_REGISTER=1

# The example on a real GGUF: CPU here; cuda:0 reports itself skipped when there is no GPU.
if [ -f "$data/stories260K-q4_k_m.gguf" ]; then
  for dev in cpu cuda:0; do
    if out=$(cargo run --offline -q --example load -- "$data/stories260K-q4_k_m.gguf" --device $dev 2>&1); then
      echo "$out" | head -4
      case $out in skipped:*) case_xml "example load $dev" skip "$out" ;; *) case_xml "example load $dev" ok ;; esac
    else
      echo "$out"; case_xml "example load $dev" fail "$out"
    fi
  done
  if out=$(cargo run --offline -q --example split -- "$data/stories260K-q4_k_m.gguf" --devices host,host 2>&1); then
    echo "$out" | head -3; case_xml "example split" ok
  else
    echo "$out"; case_xml "example split" fail "$out"
  fi
else
  case_xml "example load" skip "no test data at $data"
fi

# valgrind over the dq test binaries: AVX-512 code is beyond valgrind, so the CPU plugin runs
# its AVX2 path; leaks of any definite or indirect kind, or invalid accesses, fail.
if command -v valgrind >/dev/null; then
  bins=$(cargo test --offline --all-features -p dq --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])')
  [ -n "$bins" ] || case_xml "valgrind" fail "no test binary found"
  for bin in $bins; do
    name=$(basename "$bin")
    if DQ_CPU_ISA=avx2 DQ_THREADS=2 valgrind --error-exitcode=99 --leak-check=full \
         --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
         --quiet "$bin" --test-threads=2 >"$logdir/rust-valgrind-$name.log" 2>&1; then
      case_xml "valgrind ${name%-*}" ok
    else
      tail -40 "$logdir/rust-valgrind-$name.log"
      case_xml "valgrind ${name%-*}" fail "valgrind found errors or leaks (see $logdir/rust-valgrind-$name.log)"
    fi
  done
else
  case_xml "valgrind" skip "valgrind not installed"
fi
write_junit
exit $failed
