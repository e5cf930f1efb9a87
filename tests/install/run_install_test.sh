#!/bin/sh
# Installs a dq build tree into a temporary prefix, moves the prefix elsewhere (an installed dq
# must not depend on where it was installed), then checks the layout, `dq backends` from the
# prefix, and two out-of-tree C programs built against it: one with find_package(dq), one with
# pkg-config. Each dequantizes test tensors and compares them with the goldens.
# Usage: run_install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER TESTDATA_DIR   (77: skipped)
set -eu
build=$1 src=$2 cc=$3
data=${DQ_TESTDATA:-$4}
if [ ! -f "$data/all-types.gguf" ]; then
  echo "install test skipped: no test data in $data (set DQ_TESTDATA)"
  exit 77
fi
command -v pkg-config >/dev/null || { echo "install test: pkg-config not installed"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dq-install-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install test: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/staged" >"$tmp/install.log" || {
  cat "$tmp/install.log"; fail "cmake --install failed"; }
mv "$tmp/staged" "$tmp/moved"
prefix=$tmp/moved

for f in include/dq/dq.h include/dq/dq_loader.h include/dq/dq.hpp lib/libdq-core.so \
         lib/libdq-core.so.0 lib/dq/libdq-cpu.so bin/dq bin/dq-conformance \
         lib/pkgconfig/dq.pc lib/cmake/dq/dqConfig.cmake lib/cmake/dq/dqConfigVersion.cmake; do
  [ -e "$prefix/$f" ] || fail "$f missing from the installed prefix"
done
soname=$(readelf -d "$prefix/lib/libdq-core.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = libdq-core.so.0 ] || fail "libdq-core.so has SONAME '$soname', expected libdq-core.so.0"

# The installed core finds the installed plugins beside itself, also after the move.
"$prefix/bin/dq" backends >"$tmp/backends.txt" 2>&1 || { cat "$tmp/backends.txt"; fail "dq backends failed"; }
cat "$tmp/backends.txt"
grep -q "^cpu .* loaded" "$tmp/backends.txt" || fail "dq backends from the prefix lists no loaded cpu plugin"
grep -q "path: $prefix/" "$tmp/backends.txt" || fail "the cpu plugin was not loaded from the moved prefix"

check_consumer() {  # check_consumer HOW BINARY
  for t in t.q6_k t.q5_0 t.q8_0 t.iq2_xxs; do
    out=$("$2" "$data/all-types.gguf" "$t" "$data/golden/all-types.$t.f32") ||
      fail "$1 consumer failed on $t"
    echo "$1: $out"
    case $out in *" at $prefix/"*) ;; *) fail "$1 consumer did not use the moved prefix's plugin";; esac
  done
}

# 1. CMake: find_package(dq) with the prefix on CMAKE_PREFIX_PATH.
cmake -S "$src/tests/install/find_package" -B "$tmp/fp" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/fp.log" 2>&1 &&
  cmake --build "$tmp/fp" >>"$tmp/fp.log" 2>&1 || { cat "$tmp/fp.log"; fail "find_package(dq) consumer did not build"; }
check_consumer find_package "$tmp/fp/consumer"

# 2. pkg-config: the .pc file finds the prefix relative to itself.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion dq)" = "$(sed -n 's/^Version: //p' "$prefix/lib/pkgconfig/dq.pc")" ] ||
  fail "pkg-config does not see dq"
libdir=$(pkg-config --variable=libdir dq)
# shellcheck disable=SC2046
"$cc" -std=c99 -Wall -Wextra -Werror -o "$tmp/pc-consumer" "$src/tests/install/consumer.c" \
  $(pkg-config --cflags --libs dq) -Wl,-rpath,"$libdir" || fail "pkg-config consumer did not build"
check_consumer pkg-config "$tmp/pc-consumer"
echo "install test: prefix layout, relocation, find_package and pkg-config consumers OK"
