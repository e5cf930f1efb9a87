// Type table shared by the core and every plugin (header-only, no core internals).
// Ids, block sizes and names are facts from ggml's ggml.h / ggml.c type_traits
// (see ../shared/reference/ggml-types.md); the golden-file tests check the layouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace dq {

struct TypeTraits {
  int32_t id;
  const char *name;       // ggml spelling, e.g. "q4_K"
  int64_t block_elements; // 0: unknown / retired / not dequantizable
  size_t block_bytes;
  bool retired;
  bool dequantizable;     // has a to-float in ggml (integers and Q8_1 do not)
};

inline constexpr TypeTraits kTypeTable[] = {
    {0, "f32", 1, 4, false, true},        {1, "f16", 1, 2, false, true},
    {2, "q4_0", 32, 18, false, true},     {3, "q4_1", 32, 20, false, true},
    {4, "q4_2", 0, 0, true, false},       {5, "q4_3", 0, 0, true, false},
    {6, "q5_0", 32, 22, false, true},     {7, "q5_1", 32, 24, false, true},
    {8, "q8_0", 32, 34, false, true},     {9, "q8_1", 32, 36, false, false},
    {10, "q2_K", 256, 84, false, true},   {11, "q3_K", 256, 110, false, true},
    {12, "q4_K", 256, 144, false, true},  {13, "q5_K", 256, 176, false, true},
    {14, "q6_K", 256, 210, false, true},  {15, "q8_K", 256, 292, false, true},
    {16, "iq2_xxs", 256, 66, false, true}, {17, "iq2_xs", 256, 74, false, true},
    {18, "iq3_xxs", 256, 98, false, true}, {19, "iq1_s", 256, 50, false, true},
    {20, "iq4_nl", 32, 18, false, true},  {21, "iq3_s", 256, 110, false, true},
    {22, "iq2_s", 256, 82, false, true},  {23, "iq4_xs", 256, 136, false, true},
    {24, "i8", 1, 1, false, false},       {25, "i16", 1, 2, false, false},
    {26, "i32", 1, 4, false, false},      {27, "i64", 1, 8, false, false},
    {28, "f64", 1, 8, false, false},      {29, "iq1_m", 256, 56, false, true},
    {30, "bf16", 1, 2, false, true},      {31, "q4_0_4_4", 0, 0, true, false},
    {32, "q4_0_4_8", 0, 0, true, false},  {33, "q4_0_8_8", 0, 0, true, false},
    {34, "tq1_0", 256, 54, false, true},  {35, "tq2_0", 256, 66, false, true},
    {36, "iq4_nl_4_4", 0, 0, true, false}, {37, "iq4_nl_4_8", 0, 0, true, false},
    {38, "iq4_nl_8_8", 0, 0, true, false}, {39, "mxfp4", 32, 17, false, true},
    {40, "nvfp4", 64, 36, false, true},   {41, "q1_0", 128, 18, false, true},
    {42, "q2_0", 64, 18, false, true},
};

inline constexpr int32_t kTypeCount = sizeof(kTypeTable) / sizeof(kTypeTable[0]);
static_assert(kTypeCount == 43, "type table must cover ids 0..42");

// Traits for an id, or nullptr when the id is outside the table.
inline constexpr const TypeTraits *type_traits(int32_t id) {
  return (id >= 0 && id < kTypeCount) ? &kTypeTable[id] : nullptr;
}

// True for ids that have a block layout (including integer tensors, which the GGUF reader
// must size but no backend dequantizes).
inline constexpr bool type_has_layout(int32_t id) {
  const TypeTraits *t = type_traits(id);
  return t && !t->retired && t->block_elements > 0;
}

inline constexpr bool type_is_dequantizable(int32_t id) {
  const TypeTraits *t = type_traits(id);
  return t && t->dequantizable;
}

inline constexpr bool is_output_type(int32_t id) { return id == 0 || id == 1 || id == 30; }
inline constexpr size_t output_type_size(int32_t id) { return id == 0 ? 4 : 2; }

// Bytes for n elements; nullopt when n is not a positive block multiple or overflows.
inline std::optional<uint64_t> type_nbytes(int32_t id, int64_t n) {
  const TypeTraits *t = type_traits(id);
  if (!t || t->block_elements <= 0 || n < 0 || n % t->block_elements != 0) return std::nullopt;
  uint64_t blocks = static_cast<uint64_t>(n / t->block_elements);
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(t->block_bytes), &bytes))
    return std::nullopt;
  return bytes;
}

}  // namespace dq
