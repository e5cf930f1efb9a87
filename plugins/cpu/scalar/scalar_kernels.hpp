// The scalar (reference) dequantizers: one function per type, each turning n_blocks whole
// blocks at `src` (any byte address) into f32 at `dst`. They mirror ggml's reference
// dequantize_row_* float operation for operation, so their output is bit-identical to it;
// this folder is compiled with -ffp-contract=off so no multiply-add is fused.
#pragma once

#include <cstdint>

namespace dq::cpu::scalar {

using F32BlockFn = void (*)(const uint8_t *src, float *dst, int64_t n_blocks);

// float.cpp
void dequant_f32(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_f16(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_bf16(const uint8_t *src, float *dst, int64_t n_blocks);
// legacy.cpp (32-element blocks)
void dequant_q4_0(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q4_1(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q5_0(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q5_1(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q8_0(const uint8_t *src, float *dst, int64_t n_blocks);
// kquants.cpp
void dequant_q2_K(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q3_K(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q4_K(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q5_K(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q6_K(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q8_K(const uint8_t *src, float *dst, int64_t n_blocks);
// iq2_iq3.cpp
void dequant_iq2_xxs(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq2_xs(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq2_s(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq3_xxs(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq3_s(const uint8_t *src, float *dst, int64_t n_blocks);
// iq1.cpp
void dequant_iq1_s(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq1_m(const uint8_t *src, float *dst, int64_t n_blocks);
// iq4.cpp
void dequant_iq4_nl(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_iq4_xs(const uint8_t *src, float *dst, int64_t n_blocks);
// ternary.cpp
void dequant_tq1_0(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_tq2_0(const uint8_t *src, float *dst, int64_t n_blocks);
// fp4.cpp
void dequant_mxfp4(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_nvfp4(const uint8_t *src, float *dst, int64_t n_blocks);
// low_bit.cpp
void dequant_q1_0(const uint8_t *src, float *dst, int64_t n_blocks);
void dequant_q2_0(const uint8_t *src, float *dst, int64_t n_blocks);

// The f32 dequantizer of a type id, or nullptr when the type has none.
F32BlockFn f32_kernel(int32_t type);

}  // namespace dq::cpu::scalar
