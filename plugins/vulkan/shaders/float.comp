#version 450
// F32, F16 and BF16 inputs: widening is exact, done on the bits (no float operation, so a
// device that flushes denormals still passes subnormals through).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

const uint kF32 = 0u, kF16 = 1u, kBF16 = 30u;

uint decode(uint e) {
  if (SRC_TYPE == kF32) return src_u32(4u * e);
  const uint h = src_u16(2u * e);
  if (SRC_TYPE == kF16) {
    // Exact widening; the subnormal case is a float multiply whose result is normal.
    return floatBitsToUint(half_to_float(h));
  }
  return h << 16;  // bf16
}

DQ_MAIN(decode)
