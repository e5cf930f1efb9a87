// Bit-level comparison of outputs and the rounding that turns a golden f32 into the expected
// f16 / bf16 bits (round to nearest, ties to even, computed independently of the plugins).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dq::conformance {

// "" when `got` equals `want` bit for bit (any NaN matches any NaN), else where and how they
// first differ and how many elements differ. Both hold n outputs of dst_type.
std::string compare_outputs(int32_t dst_type, const std::vector<uint8_t> &got,
                            const std::vector<uint8_t> &want, int64_t n);

// Golden f32 values (raw little-endian) as the bytes of dst_type outputs.
std::vector<uint8_t> golden_as(int32_t dst_type, const std::vector<uint8_t> &f32_bytes);

}  // namespace dq::conformance
