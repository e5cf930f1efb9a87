// The AVX2 + F16C kernel set (8 lanes). Built with -mavx2 -mfma -mf16c; called only when
// cpu_features() reports AVX2, FMA and F16C with OS support.
// Bit-identity with the scalar set needs separate multiply and add roundings: never fuse
// them into FMA here (the build also passes -ffp-contract=off where it can).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma clang fp contract(off)
#endif
#include <bit>
#include <cstdint>
#include <cstring>

#include "../kernel_table.hpp"
#include "dq_common/grids.hpp"
#include "simd_avx2.hpp"

namespace dq::cpu::avx2 {
#include "../simd/all_kernels.hpp"
}  // namespace dq::cpu::avx2

namespace dq::cpu {
const KernelSet *avx2_kernels() {
  return &avx2::kernel_set("avx2");
}
}  // namespace dq::cpu
