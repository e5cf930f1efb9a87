// Valid GGUF models made with the tests' GgufBuilder: small models, one tensor of every type,
// metadata of every value type, split keys. Seeds for the fuzzers and bases for the
// structure-aware (recipe) targets.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gguf_builder.hpp"

namespace dq::fuzz {

using test::Bytes;

inline std::vector<std::pair<std::string, Bytes>> generated_models() {
  using namespace dq::test;
  std::vector<std::pair<std::string, Bytes>> out;
  GgufBuilder small = small_model();
  out.emplace_back("valid-small", small.build());
  GgufBuilder v2 = small_model();
  v2.version = 2;
  out.emplace_back("valid-v2", v2.build());
  out.emplace_back("valid-empty", GgufBuilder().build());

  // One tensor per type with a layout, 1-D to 4-D.
  struct T { uint32_t id; uint64_t block; uint64_t bytes; };
  const T types[] = {{0, 1, 4},     {1, 1, 2},     {2, 32, 18},   {3, 32, 20},   {6, 32, 22},
                     {7, 32, 24},   {8, 32, 34},   {9, 32, 36},   {10, 256, 84}, {11, 256, 110},
                     {12, 256, 144}, {13, 256, 176}, {14, 256, 210}, {15, 256, 292},
                     {16, 256, 66}, {17, 256, 74},  {18, 256, 98},  {19, 256, 50}, {20, 32, 18},
                     {21, 256, 110}, {22, 256, 82}, {23, 256, 136}, {24, 1, 1},   {25, 1, 2},
                     {26, 1, 4},    {27, 1, 8},    {28, 1, 8},    {29, 256, 56}, {30, 1, 2},
                     {34, 256, 54}, {35, 256, 66}, {39, 32, 17},  {40, 64, 36},  {41, 128, 18},
                     {42, 64, 18}};
  GgufBuilder all;
  all.kv("general.architecture", kString, enc_string("fuzz"));
  int k = 0;
  for (const T &t : types) {
    std::vector<uint64_t> ne = {t.block};
    for (int d = 1; d <= k % 4; ++d) ne.push_back(static_cast<uint64_t>(d + 1));
    uint64_t n = 1;
    for (uint64_t e : ne) n *= e;
    all.tensor("t." + std::to_string(t.id), t.id, ne, n / t.block * t.bytes);
    ++k;
  }
  out.emplace_back("valid-all-types", all.build());

  // Metadata of every value type, nested arrays, odd strings, alignment variants.
  GgufBuilder meta;
  meta.kv("u8", kU8, enc<uint8_t>(200)).kv("i8", kI8, enc<int8_t>(-100));
  meta.kv("u16", kU16, enc<uint16_t>(60000)).kv("i16", kI16, enc<int16_t>(-30000));
  meta.kv("u32", kU32, enc<uint32_t>(4000000000u)).kv("i32", kI32, enc<int32_t>(-2));
  meta.kv("f32", kF32, enc<float>(3.5f)).kv("bool", kBool, enc<uint8_t>(1));
  meta.kv("str", kString, enc_string("text\n\x01\xff"));
  meta.kv("bidi\xe2\x80\xae", kString, enc_string("\xc2\x9b" "31m\xe2\x81\xa6\x1b[0m"));
  meta.kv("u64", kU64, enc<uint64_t>(~0ull)).kv("i64", kI64, enc<int64_t>(-5));
  meta.kv("f64", kF64, enc<double>(1e300));
  meta.kv("f32.nan", kF32, enc<uint32_t>(0x7fc00000u));
  meta.kv("arr.f32", kArray, enc_numbers<float>(kF32, {0.5f, -1.0f}));
  meta.kv("arr.bool", kArray, enc_numbers<uint8_t>(kBool, {0, 1, 2}));
  meta.kv("arr.empty", kArray, enc_array(kI32, 0, {}));
  Bytes strs;
  put_string(strs, "a");
  put_string(strs, "");
  meta.kv("arr.str", kArray, enc_array(kString, 2, strs));
  Bytes nested = enc_numbers<int32_t>(kI32, {1, 2});
  Bytes level2 = enc_array(kArray, 1, nested);
  meta.kv("arr.nested", kArray, enc_array(kArray, 1, level2));
  meta.kv("general.alignment", kU32, enc<uint32_t>(64));
  meta.alignment = 64;
  meta.tensor("x", 8, {32, 3}, 3 * 34);
  meta.tensor("name\x1b]0;title\x07", 0, {4}, 16);
  out.emplace_back("valid-metadata", meta.build());

  GgufBuilder split;
  split.kv("split.no", kU16, enc<uint16_t>(0)).kv("split.count", kU16, enc<uint16_t>(2));
  split.kv("split.tensors.count", kI32, enc<int32_t>(1));
  split.tensor("w", 0, {4}, 16);
  out.emplace_back("valid-split-keys", split.build());
  return out;
}

// Part `no` (0-based) of a valid `count`-part split model with one tensor per part.
inline Bytes split_part(uint16_t no, uint16_t count) {
  using namespace dq::test;
  GgufBuilder g;
  if (no == 0) g.kv("general.architecture", kString, enc_string("fuzz"));
  g.kv("split.no", kU16, enc<uint16_t>(no)).kv("split.count", kU16, enc<uint16_t>(count));
  g.kv("split.tensors.count", kI32, enc<int32_t>(count));
  g.tensor("w." + std::to_string(no), 0, {4}, 16);
  return g.build();
}

}  // namespace dq::fuzz
