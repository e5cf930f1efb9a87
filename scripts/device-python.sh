#!/usr/bin/env bash
# The Python package's GPU checks on the device machine (issues 12 and 13), in one call:
# installs the carried wheels (dq built here with the cuda plugin, and what the device's
# python3 lacks), then runs the package's whole pytest suite there, where test_cuda.py and
# the CUDA half of test_torch.py run instead of skipping. Logs go to $OUT.
#
# Here, before the call (wheels travel in .whl, which .git/info/exclude must ignore):
#   scripts/device-python.sh --prepare
# On the device:  scripts/device-python.sh       (carry: .whl, .devdata)
# Not run yet: written in a session without a device (2026-12-04).
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == --prepare ]]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >>.git/info/exclude
  mkdir -p .whl && rm -f .whl/dq-*.whl
  # Hopper only: the device is an H200 (and the build is 4x shorter than all targets).
  python3 -m pip wheel ./python -w .whl --no-deps -C cmake.define.CMAKE_CUDA_ARCHITECTURES=90 &&
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_17_x86_64 -d .whl gguf diffusers
  exit $?
fi
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
export DQ_TESTDATA=${DQ_TESTDATA:-$PWD/.devdata/testdata}
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl ||
  exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
{ date -u; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import dq, torch; print(torch.__version__, dq.backends())"; } 2>&1 | tee "$OUT/summary.log"
python3 -m pytest python/tests -q -rs -x --junitxml="$OUT/python.xml" 2>&1 | tee "$OUT/pytest.log" | tail -40
python3 -m pytest python/tests/test_cuda.py python/tests/test_torch.py -q -s -k "cuda or CUDA" \
  2>&1 | grep -iE "free|memory|pointer|passed|failed" | tail -20 | tee -a "$OUT/summary.log"
