// Block layouts of every quantized ggml type (header-only, shared by the CPU and CUDA
// plugins). Field order and sizes follow ggml's ggml-common.h; the static_asserts pin each
// size to the type table, and the golden-file tests pin the field meanings.
//
// Kernels should read fields at offsetof(block, field) from a byte pointer with memcpy (see
// load_u16 etc. below) rather than through a struct pointer: tensor data can sit at any
// byte address, and a 17- or 18-byte block stride leaves 2-byte fields unaligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dq_common/half.hpp"
#include "dq_common/type_traits.hpp"

namespace dq::blocks {

inline constexpr int QK_K = 256;
inline constexpr int K_SCALE_SIZE = 12;

using half_bits = uint16_t;  // an IEEE binary16 as stored in the file

// ---- 32-element "legacy" blocks
struct block_q4_0 { half_bits d; uint8_t qs[16]; };
struct block_q4_1 { half_bits d; half_bits m; uint8_t qs[16]; };
struct block_q5_0 { half_bits d; uint8_t qh[4]; uint8_t qs[16]; };
struct block_q5_1 { half_bits d; half_bits m; uint8_t qh[4]; uint8_t qs[16]; };
struct block_q8_0 { half_bits d; int8_t qs[32]; };
struct block_iq4_nl { half_bits d; uint8_t qs[16]; };

// ---- FP4 blocks
struct block_mxfp4 { uint8_t e; uint8_t qs[16]; };     // E8M0 scale, 32 E2M1 codes
struct block_nvfp4 { uint8_t d[4]; uint8_t qs[32]; };  // 4 UE4M3 scales (16 each), 64 codes

// ---- 1- and 2-bit blocks
struct block_q1_0 { half_bits d; uint8_t qs[16]; };  // 128 elements, 1 bit each
struct block_q2_0 { half_bits d; uint8_t qs[16]; };  // 64 elements, 2 bits each

// ---- ternary
struct block_tq1_0 { uint8_t qs[48]; uint8_t qh[4]; half_bits d; };
struct block_tq2_0 { uint8_t qs[64]; half_bits d; };

// ---- k-quants (256-element super-blocks)
struct block_q2_K { uint8_t scales[16]; uint8_t qs[64]; half_bits d; half_bits dmin; };
struct block_q3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; half_bits d; };
struct block_q4_K { half_bits d; half_bits dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[128]; };
struct block_q5_K {
  half_bits d; half_bits dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[32]; uint8_t qs[128];
};
struct block_q6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; half_bits d; };
struct block_q8_K { float d; int8_t qs[256]; int16_t bsums[16]; };

// ---- i-quants
struct block_iq2_xxs { half_bits d; uint16_t qs[32]; };
struct block_iq2_xs { half_bits d; uint16_t qs[32]; uint8_t scales[8]; };
struct block_iq2_s { half_bits d; uint8_t qs[64]; uint8_t qh[8]; uint8_t scales[8]; };
struct block_iq3_xxs { half_bits d; uint8_t qs[96]; };
struct block_iq3_s {
  half_bits d; uint8_t qs[64]; uint8_t qh[8]; uint8_t signs[32]; uint8_t scales[4];
};
struct block_iq1_s { half_bits d; uint8_t qs[32]; uint16_t qh[8]; };
struct block_iq1_m { uint8_t qs[32]; uint8_t qh[16]; uint8_t scales[8]; };  // no d field
struct block_iq4_xs { half_bits d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };

// Every layout must match the type table (which the GGUF reader uses to size tensors).
template <typename Block>
constexpr bool matches(int32_t id, int64_t elements) {
  return kTypeTable[id].block_bytes == sizeof(Block) && kTypeTable[id].block_elements == elements;
}
static_assert(matches<block_q4_0>(2, 32) && sizeof(block_q4_0) == 18);
static_assert(matches<block_q4_1>(3, 32) && sizeof(block_q4_1) == 20);
static_assert(matches<block_q5_0>(6, 32) && sizeof(block_q5_0) == 22);
static_assert(matches<block_q5_1>(7, 32) && sizeof(block_q5_1) == 24);
static_assert(matches<block_q8_0>(8, 32) && sizeof(block_q8_0) == 34);
static_assert(matches<block_q2_K>(10, 256) && sizeof(block_q2_K) == 84);
static_assert(matches<block_q3_K>(11, 256) && sizeof(block_q3_K) == 110);
static_assert(matches<block_q4_K>(12, 256) && sizeof(block_q4_K) == 144);
static_assert(matches<block_q5_K>(13, 256) && sizeof(block_q5_K) == 176);
static_assert(matches<block_q6_K>(14, 256) && sizeof(block_q6_K) == 210);
static_assert(matches<block_q8_K>(15, 256) && sizeof(block_q8_K) == 292);
static_assert(matches<block_iq2_xxs>(16, 256) && sizeof(block_iq2_xxs) == 66);
static_assert(matches<block_iq2_xs>(17, 256) && sizeof(block_iq2_xs) == 74);
static_assert(matches<block_iq3_xxs>(18, 256) && sizeof(block_iq3_xxs) == 98);
static_assert(matches<block_iq1_s>(19, 256) && sizeof(block_iq1_s) == 50);
static_assert(matches<block_iq4_nl>(20, 32) && sizeof(block_iq4_nl) == 18);
static_assert(matches<block_iq3_s>(21, 256) && sizeof(block_iq3_s) == 110);
static_assert(matches<block_iq2_s>(22, 256) && sizeof(block_iq2_s) == 82);
static_assert(matches<block_iq4_xs>(23, 256) && sizeof(block_iq4_xs) == 136);
static_assert(matches<block_iq1_m>(29, 256) && sizeof(block_iq1_m) == 56);
static_assert(matches<block_tq1_0>(34, 256) && sizeof(block_tq1_0) == 54);
static_assert(matches<block_tq2_0>(35, 256) && sizeof(block_tq2_0) == 66);
static_assert(matches<block_mxfp4>(39, 32) && sizeof(block_mxfp4) == 17);
static_assert(matches<block_nvfp4>(40, 64) && sizeof(block_nvfp4) == 36);
static_assert(matches<block_q1_0>(41, 128) && sizeof(block_q1_0) == 18);
static_assert(matches<block_q2_0>(42, 64) && sizeof(block_q2_0) == 18);

// ---- unaligned little-endian field access (the formats are little-endian; so are the hosts
// dq targets, x86-64 and AArch64, and CUDA devices)
DQ_HD inline uint16_t load_u16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
DQ_HD inline uint32_t load_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
DQ_HD inline float load_f32(const uint8_t *p) {
  float v;
  memcpy(&v, p, sizeof v);
  return v;
}
DQ_HD inline float load_f16(const uint8_t *p) { return f16_to_f32(load_u16(p)); }

}  // namespace dq::blocks

namespace dq::blocks {

// ---- FP4 scale fields. Both return the scale times 1/2, matching the doubled E2M1 table
// (grids::kvalues_mxfp4), as ggml does; every result is exact.

// MXFP4's E8M0 byte: 2^(e-127) / 2 = 2^(e-128). Bytes 0 and 1 give the f32 subnormals
// 2^-128 and 2^-127; 0xFF gives 2^127 (never NaN).
DQ_HD inline float e8m0_to_f32_half(uint8_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e) - 1u) << 23;
  return f32_from_bits(bits);
}

// NVFP4's unsigned E4M3 byte (bias 7, bit 7 ignored by the exponent/mantissa): 0 and 0x7F
// decode to 0; exponent 0 is subnormal (man * 2^-9); all halved.
DQ_HD inline float ue4m3_to_f32_half(uint8_t x) {
  if (x == 0 || x == 0x7F) return 0.0f;
  const uint32_t exp = (x >> 3) & 0xFu;
  const uint32_t man = x & 0x7u;
  if (exp == 0) return static_cast<float>(man) * 0.0009765625f;  // man * 2^-9 / 2
  return f32_from_bits(((exp + 119u) << 23) | (man << 20));         // (1 + man/8) 2^(exp-8)
}

}  // namespace dq::blocks
