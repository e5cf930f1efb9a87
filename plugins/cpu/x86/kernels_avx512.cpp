// The AVX-512 kernel set (16 lanes). Built with -mavx512f -mavx512bw -mavx512vl -mavx512dq; called only when
// cpu_features() reports AVX-512 F/BW/VL/DQ with OS support.
// GCC 12 warns inside its own avx512fintrin.h (the _mm512_undefined_* placeholders that the
// intrinsics pass as unused merge sources); the warning is a known false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
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
#include "simd_avx512.hpp"

namespace dq::cpu::avx512 {
#include "../simd/all_kernels.hpp"
}  // namespace dq::cpu::avx512

namespace dq::cpu {
const KernelSet *avx512_kernels() {
  return &avx512::kernel_set("avx512");
}
}  // namespace dq::cpu
