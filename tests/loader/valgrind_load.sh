#!/bin/sh
# Runs a small CPU load under valgrind (errors or leaks fail the test); skips (77) when
# valgrind is missing. Usage: valgrind_load.sh DQ_BINARY [TESTDATA_DIR]
dq="$1"
data="${DQ_TESTDATA:-$2}"
if ! command -v valgrind >/dev/null 2>&1; then
  echo "valgrind not installed: skipped"
  exit 77
fi
model="$data/mini-llama-q4_k_m.gguf"
[ -f "$model" ] || model=""   # no test data: the built-in model
set -e
for to in f16 f32 keep; do
  valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --quiet "$dq" load $model --device cpu --to "$to" --no-progress
done
