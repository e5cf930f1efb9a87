// The CPU plugin's kernel interface: one function per (type, output type) that dequantizes
// whole blocks. The scalar set is the in-project specification; faster sets (AVX2,
// AVX-512, NEON) fill the entries they implement and leave the rest null (scalar is used).
#pragma once

#include <cstdint>

#include "dq_common/type_traits.hpp"

namespace dq::cpu {

// Dequantizes n_blocks consecutive blocks of one type from `src` into `dst`
// (float, uint16_t f16 bits or uint16_t bf16 bits, per the table it sits in).
using BlockFn = void (*)(const uint8_t *src, void *dst, int64_t n_blocks);

enum OutIndex : int { kOutF32 = 0, kOutF16 = 1, kOutBF16 = 2, kOutCount = 3 };

inline constexpr int out_index(int32_t dst_type) {
  return dst_type == 0 ? kOutF32 : dst_type == 1 ? kOutF16 : dst_type == 30 ? kOutBF16 : -1;
}

struct KernelSet {
  const char *isa;  // "scalar", "avx2", "avx512", "neon"
  BlockFn fn[kTypeCount][kOutCount];
};

// Always present; every dequantizable type filled.
const KernelSet &scalar_kernels();

}  // namespace dq::cpu
