// MXFP4 (32 E2M1 codes, one E8M0 scale) and NVFP4 (64 codes, four UE4M3 scales, one per 16).
// The E2M1 table is doubled and the scale decoders halve, exactly as in ggml.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;
using dq::grids::kvalues_mxfp4;

void dequant_mxfp4(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_mxfp4), y += 32) {
    const float d = e8m0_to_f32_half(src[offsetof(block_mxfp4, e)]);
    const uint8_t *qs = src + offsetof(block_mxfp4, qs);
    for (int j = 0; j < 16; ++j) {
      const int8_t x0 = kvalues_mxfp4[qs[j] & 0x0F];
      const int8_t x1 = kvalues_mxfp4[qs[j] >> 4];
      y[j + 0] = x0 * d;
      y[j + 16] = x1 * d;
    }
  }
}

void dequant_nvfp4(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_nvfp4)) {
    const uint8_t *scales = src + offsetof(block_nvfp4, d);
    const uint8_t *qs = src + offsetof(block_nvfp4, qs);
    for (int s = 0; s < 4; ++s) {
      // Sub-block s: byte j holds element j (low nibble) and element j + 8 (high nibble).
      const float d = ue4m3_to_f32_half(scales[s]);
      const uint8_t *q = qs + 8 * s;
      for (int j = 0; j < 8; ++j) {
        const int8_t v0 = kvalues_mxfp4[q[j] & 0x0F];
        const int8_t v1 = kvalues_mxfp4[q[j] >> 4];
        y[j + 0] = v0 * d;
        y[j + 8] = v1 * d;
      }
      y += 16;
    }
  }
}

}  // namespace dq::cpu::scalar
