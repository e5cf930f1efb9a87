#!/usr/bin/env bash
# Installs the Python package (pip install ./python: a wheel with libdq-core, the plugins built
# on this machine and the `dq` module) into a virtual environment, build/python-venv unless
# DQ_PYTHON_VENV says otherwise. --fresh starts the environment anew; --test also installs
# what the package's tests need (pytest, gguf, ml_dtypes, and torch, transformers, accelerate,
# diffusers for dq.torch and dq.integrations: about 2 minutes and 5.5 GB from PyPI, whose
# Linux torch wheel pulls the CUDA libraries; download.pytorch.org's CPU-only wheels are not
# reachable from every machine). DQ_TEST_TORCH=0 leaves the torch stack out (its tests then
# skip, saying so). The cuda plugin is built into the wheel when nvcc is found, unless
# DQ_ENABLE_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${DQ_PYTHON_VENV:-build/python-venv}
fresh=0 test=0
for arg in "$@"; do
  case $arg in
    --fresh) fresh=1 ;;
    --test) test=1 ;;
    *) echo "install-python: unknown argument '$arg' (use --fresh, --test)" >&2; exit 2 ;;
  esac
done
[ $fresh = 1 ] && rm -rf "$venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
CMAKE_BUILD_PARALLEL_LEVEL="${DQ_JOBS:-$(nproc)}" "$py" -m pip install -q ./python
if [ $test = 1 ]; then
  # Pinned to the versions CI last passed with (python/test-constraints.txt says why).
  constraints=(-c "$(dirname "$0")/../python/test-constraints.txt")
  "$py" -m pip install -q "${constraints[@]}" pytest gguf ml_dtypes
  if [ "${DQ_TEST_TORCH:-1}" != 0 ]; then
    "$py" -m pip install -q "${constraints[@]}" torch transformers accelerate diffusers
  fi
fi
"$py" -c "import dq; print('install-python: dq', dq.__version__, 'in $venv, backends:', dq.backends())"
