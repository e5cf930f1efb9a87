// Every block format the CUDA plugin decodes, and a visitor from ggml type id to format.
#pragma once

#include <cstdint>

#include "decode_iquants.cuh"
#include "decode_kquants.cuh"
#include "decode_legacy.cuh"
#include "decode_ternary.cuh"

namespace dq::gpu {

// Calls f(Fmt{}) for the block format of `type` and returns true, or returns false when
// `type` is not a block format decoded here (F32/F16/BF16 are element formats, handled apart).
template <typename F>
bool visit_block_format(int32_t type, F &&f) {
  switch (type) {
    case 2: f(FmtQ4_0{}); return true;
    case 3: f(FmtQ4_1{}); return true;
    case 6: f(FmtQ5_0{}); return true;
    case 7: f(FmtQ5_1{}); return true;
    case 8: f(FmtQ8_0{}); return true;
    case 10: f(FmtQ2_K{}); return true;
    case 11: f(FmtQ3_K{}); return true;
    case 12: f(FmtQ4_K{}); return true;
    case 13: f(FmtQ5_K{}); return true;
    case 14: f(FmtQ6_K{}); return true;
    case 15: f(FmtQ8_K{}); return true;
    case 16: f(FmtIQ2_XXS{}); return true;
    case 17: f(FmtIQ2_XS{}); return true;
    case 18: f(FmtIQ3_XXS{}); return true;
    case 19: f(FmtIQ1_S{}); return true;
    case 20: f(FmtIQ4_NL{}); return true;
    case 21: f(FmtIQ3_S{}); return true;
    case 22: f(FmtIQ2_S{}); return true;
    case 23: f(FmtIQ4_XS{}); return true;
    case 29: f(FmtIQ1_M{}); return true;
    case 34: f(FmtTQ1_0{}); return true;
    case 35: f(FmtTQ2_0{}); return true;
    case 39: f(FmtMXFP4{}); return true;
    case 40: f(FmtNVFP4{}); return true;
    case 41: f(FmtQ1_0{}); return true;
    case 42: f(FmtQ2_0{}); return true;
    default: return false;
  }
}

}  // namespace dq::gpu
