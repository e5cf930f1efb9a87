#!/usr/bin/env bash
# The Python package's GPU checks on the device machine (issues 12 and 13), in one call:
# installs the carried wheels (dq built here with the cuda plugin, and what the device's
# python3 lacks), then runs the package's whole pytest suite there, where test_cuda.py and
# the CUDA half of test_torch.py run instead of skipping. Logs go to $OUT, packed into logs.tgz
# at the end beside summary.log. DRY_RUN=1 prints the steps without running them.
#
# Here, before the call (wheels travel in .whl, which .git/info/exclude must ignore):
#   scripts/device-python.sh --prepare
# On the device:  scripts/device-python.sh       (carry: .whl, .devdata)
# Not run yet: written in a session without a device (2026-12-04).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source-path=SCRIPTDIR source=lib/device-common.sh
source scripts/lib/device-common.sh
if [[ ${1:-} == --prepare ]]; then
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >>.git/info/exclude
  mkdir -p .whl && rm -f .whl/dq-*.whl
  # Hopper only: the device is an H200 (and the build is 4x shorter than all targets).
  python3 -m pip wheel ./python -w .whl --no-deps -C cmake.define.CMAKE_CUDA_ARCHITECTURES=90 &&
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_17_x86_64 -d .whl gguf diffusers
  exit $?
fi
dev_init summary.log
run_or_print python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl ||
  exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
dev_header name,driver_version
run_or_print python3 -c "import dq, torch; print(torch.__version__, dq.backends())" 2>&1 | tee -a "$S"
run_or_print python3 -m pytest python/tests -q -rs -x --junitxml="$OUT/python.xml" 2>&1 | tee "$OUT/pytest.log" | tail -40
status=${PIPESTATUS[0]}
run_or_print python3 -m pytest python/tests/test_cuda.py python/tests/test_torch.py -q -s -k "cuda or CUDA" \
  2>&1 | grep -iE "free|memory|pointer|passed|failed" | tail -20 | tee -a "$S"
log "pytest exit $status"
exit "$status"
