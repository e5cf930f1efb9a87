// The AArch64 NEON kernel set (8 lanes as register pairs): the same kernels as the x86 sets
// (../simd/), over simd_neon.hpp. Compiled only on Arm builds. NEON has no
// non-temporal vector stores, so the set has no streaming twin worth having; both point
// at regular stores.
#if defined(__ARM_NEON) && defined(__aarch64__)

// Bit-identity with the scalar set needs separate multiply and add roundings.
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
#include "simd_neon.hpp"

namespace dq::cpu::neon {
#include "../simd/all_kernels.hpp"
}  // namespace dq::cpu::neon

namespace dq::cpu {
const KernelSet *neon_kernels() { return &neon::kernel_set("neon"); }
}  // namespace dq::cpu

#endif
