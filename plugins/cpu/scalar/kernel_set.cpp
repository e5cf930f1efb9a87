// The scalar KernelSet: each type's f32 dequantizer, plus f16 / bf16 variants that round
// the f32 result to nearest-even (through a small stack buffer, so they match the f32 path
// by construction).
#include <algorithm>
#include <utility>

#include "../kernel_table.hpp"
#include "dq_common/half.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

F32BlockFn f32_kernel(int32_t type) {
  switch (type) {
    case 0: return dequant_f32;
    case 1: return dequant_f16;
    case 30: return dequant_bf16;
    case 2: return dequant_q4_0;
    case 3: return dequant_q4_1;
    case 6: return dequant_q5_0;
    case 7: return dequant_q5_1;
    case 8: return dequant_q8_0;
    case 10: return dequant_q2_K;
    case 11: return dequant_q3_K;
    case 12: return dequant_q4_K;
    case 13: return dequant_q5_K;
    case 14: return dequant_q6_K;
    case 15: return dequant_q8_K;
    case 16: return dequant_iq2_xxs;
    case 17: return dequant_iq2_xs;
    case 18: return dequant_iq3_xxs;
    case 19: return dequant_iq1_s;
    case 20: return dequant_iq4_nl;
    case 21: return dequant_iq3_s;
    case 22: return dequant_iq2_s;
    case 23: return dequant_iq4_xs;
    case 29: return dequant_iq1_m;
    case 34: return dequant_tq1_0;
    case 35: return dequant_tq2_0;
    case 39: return dequant_mxfp4;
    case 40: return dequant_nvfp4;
    case 41: return dequant_q1_0;
    case 42: return dequant_q2_0;
    default: return nullptr;
  }
}

namespace {

constexpr int64_t kChunkElements = 256;  // the largest block; also the chunk for 1-element types

template <int32_t Type, uint16_t (*Narrow)(float)>
void narrow_kernel(const uint8_t *src, void *dst, int64_t n_blocks) {
  constexpr int64_t per_block = kTypeTable[Type].block_elements;
  constexpr size_t block_bytes = kTypeTable[Type].block_bytes;
  constexpr int64_t chunk_blocks = kChunkElements / per_block;
  static_assert(chunk_blocks >= 1 && chunk_blocks * per_block == kChunkElements);
  const F32BlockFn to_f32 = f32_kernel(Type);
  auto *out = static_cast<uint16_t *>(dst);
  float tmp[kChunkElements];
  for (int64_t b = 0; b < n_blocks; b += chunk_blocks) {
    const int64_t nb = std::min(chunk_blocks, n_blocks - b);
    to_f32(src + b * block_bytes, tmp, nb);
    const int64_t ne = nb * per_block;
    for (int64_t k = 0; k < ne; ++k) out[b * per_block + k] = Narrow(tmp[k]);
  }
}

template <int32_t Type>
void f32_entry(const uint8_t *src, void *dst, int64_t n_blocks) {
  f32_kernel(Type)(src, static_cast<float *>(dst), n_blocks);
}

template <int32_t Type>
void fill(KernelSet &set) {
  if constexpr (kTypeTable[Type].dequantizable) {
    if (f32_kernel(Type) == nullptr) return;
    set.fn[Type][kOutF32] = f32_entry<Type>;
    set.fn[Type][kOutF16] = narrow_kernel<Type, f32_to_f16>;
    set.fn[Type][kOutBF16] = narrow_kernel<Type, f32_to_bf16>;
  }
}

template <int32_t... Types>
void fill_all(KernelSet &set, std::integer_sequence<int32_t, Types...>) {
  (fill<Types>(set), ...);
}

KernelSet make_scalar_set() {
  KernelSet set{};
  set.isa = "scalar";
  fill_all(set, std::make_integer_sequence<int32_t, kTypeCount>{});
  return set;
}

}  // namespace
}  // namespace dq::cpu::scalar

namespace dq::cpu {

const KernelSet &scalar_kernels() {
  static const KernelSet set = scalar::make_scalar_set();
  return set;
}

}  // namespace dq::cpu
