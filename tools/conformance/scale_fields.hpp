// Where each block layout keeps its floating-point scales, so random blocks can be given
// finite ones. Offsets come from ggml's ggml-common.h block structs; the test
// scale_fields_vs_testdata checks them against random-blocks.gguf, whose scales ggml made finite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dq::conformance {

enum class ScaleKind {
  f16,         // IEEE binary16 at `offset`
  f32,         // IEEE binary32 at `offset` (Q8_K's d)
  e8m0,        // MXFP4's power-of-two exponent byte
  f16_nibbles  // IQ1_M: f16 spread over the top nibbles of four u16 words at `offset`
};

struct ScaleField {
  size_t offset;
  ScaleKind kind;
};

// Scale fields of one block of `type`; empty for types without any (NVFP4's UE4M3 bytes are
// finite for every value) and for the plain float types, which random_input treats whole.
std::vector<ScaleField> scale_fields(int32_t type);

// Reads the f16 bits of an IQ1_M-style scale spread over four u16 words at `p`.
uint16_t read_f16_nibbles(const uint8_t *p);
void write_f16_nibbles(uint8_t *p, uint16_t f16_bits);

}  // namespace dq::conformance
