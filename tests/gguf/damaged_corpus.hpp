// Damaged GGUF files, each broken in one way, with what the reader must say about it.
// Shared by the damaged-file tests and the fuzz seed generator.
#pragma once

#include <string>
#include <vector>

#include "gguf_builder.hpp"

namespace dq::test {

struct DamagedCase {
  std::string name;
  Bytes bytes;
  std::string expect;   // substring the error message must contain
  int status;           // expected dq_status (9 = BAD_FILE, 2 = UNKNOWN_TYPE)
};

inline constexpr int kBad = 9, kUnknownType = 2;  // DQ_ERR_BAD_FILE, DQ_ERR_UNKNOWN_TYPE

inline std::vector<DamagedCase> damaged_cases() {
  std::vector<DamagedCase> cases;
  auto add = [&](std::string name, Bytes b, std::string expect, int status = kBad) {
    cases.push_back({std::move(name), std::move(b), std::move(expect), status});
  };
  // A valid base file and its layout; each case patches a copy.
  GgufBuilder base = small_model();
  const Bytes good = base.build();
  const auto L = base.layout;
  auto patched = [&](auto fn) {
    Bytes b = good;
    fn(b);
    return b;
  };
  // Builds a variant of the small model changed by `fn` (on the builder).
  auto variant = [&](auto fn) {
    GgufBuilder g = small_model();
    fn(g);
    return g.build();
  };

  add("empty", {}, "truncated");
  add("three_bytes", {'G', 'G', 'U'}, "truncated");
  add("bad_magic", patched([](Bytes &b) { b[0] = 'X'; }), "magic");
  add("ggml_magic", patched([](Bytes &b) { b[0] = 'g'; b[1] = 'g'; b[2] = 'j'; b[3] = 't'; }),
      "magic");
  add("version_0", patched([&](Bytes &b) { patch<uint32_t>(b, L.version_pos, 0); }), "version 0");
  add("version_1", patched([&](Bytes &b) { patch<uint32_t>(b, L.version_pos, 1); }), "version 1");
  add("version_4", patched([&](Bytes &b) { patch<uint32_t>(b, L.version_pos, 4); }), "version 4");
  add("version_big_endian",
      patched([&](Bytes &b) { patch<uint32_t>(b, L.version_pos, 0x03000000u); }), "big-endian");
  add("tensor_count_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_count_pos, uint64_t{1} << 62); }),
      "tensor count");
  add("tensor_count_max",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_count_pos, UINT64_MAX); }),
      "tensor count");
  add("tensor_count_plus_one",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_count_pos, 4); }), "tensor 3");
  add("kv_count_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_count_pos, uint64_t{1} << 60); }),
      "kv count");
  add("kv_count_max", patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_count_pos, UINT64_MAX); }),
      "kv count");
  add("key_length_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_pos[0], uint64_t{1} << 40); }),
      "key length");
  add("key_length_max", patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_pos[0], UINT64_MAX); }),
      "key length");
  add("key_length_past_end",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_pos[0], b.size() - L.kv_pos[0] - 8 + 1); }),
      "key length");
  add("string_length_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_value_pos[0], uint64_t{1} << 63); }),
      "string length");
  add("string_length_past_end",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_value_pos[0], 60000); }), "string length");
  // test.arr.i32 is kv 3: value = elem type (4 bytes) + count (8 bytes) + elements.
  add("array_length_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_value_pos[3] + 4, uint64_t{1} << 40); }),
      "array length");
  add("array_length_overflow",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_value_pos[3] + 4, (uint64_t{1} << 62) + 1); }),
      "array length");
  add("array_of_strings_length_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.kv_value_pos[4] + 4, UINT64_MAX / 2); }),
      "array length");
  add("unknown_value_type",
      patched([&](Bytes &b) { patch<uint32_t>(b, L.kv_type_pos[2], 13); }), "unknown value type 13");
  add("unknown_array_element_type",
      patched([&](Bytes &b) { patch<uint32_t>(b, L.kv_value_pos[3], 99); }),
      "unknown array element type 99");
  add("arrays_nested_too_deep", variant([](GgufBuilder &g) {
        Bytes v = enc_numbers<uint8_t>(kU8, {1});
        for (int i = 0; i < 40; ++i) v = enc_array(kArray, 1, v);
        g.kv("test.deep", kArray, v);
      }),
      "nested deeper");
  add("empty_key", variant([](GgufBuilder &g) { g.kv("", kU8, enc<uint8_t>(1)); }), "key is empty");
  add("key_with_nul", variant([](GgufBuilder &g) {
        g.kv(std::string("a\0b", 3), kU8, enc<uint8_t>(1));
      }),
      "NUL");
  add("duplicate_key", variant([](GgufBuilder &g) { g.kv("test.u32", kU32, enc<uint32_t>(8)); }),
      "duplicate key");
  add("alignment_not_power_of_two",
      variant([](GgufBuilder &g) { g.kvs[1].value = enc<uint32_t>(48); }), "power of two");
  add("alignment_zero", variant([](GgufBuilder &g) { g.kvs[1].value = enc<uint32_t>(0); }),
      "power of two");
  add("alignment_wrong_type", variant([](GgufBuilder &g) {
        g.kvs[1].type = kU64;
        g.kvs[1].value = enc<uint64_t>(32);
      }),
      "expected u32");
  add("n_dims_5", variant([](GgufBuilder &g) { g.tensors[0].ne = {4, 4, 2, 1, 1}; }), "n_dims 5");
  add("n_dims_huge",
      patched([&](Bytes &b) { patch<uint32_t>(b, L.tensor_ndims_pos[1], 0xffffffffu); }),
      "n_dims 4294967295");
  add("zero_dim", variant([](GgufBuilder &g) { g.tensors[1].ne = {64, 0}; }), "ne[1] is 0");
  add("dim_over_int64",
      variant([](GgufBuilder &g) { g.tensors[0].ne = {uint64_t{1} << 63}; }), "int64");
  add("element_count_overflow", variant([](GgufBuilder &g) {
        g.tensors[0].ne = {uint64_t{1} << 32, uint64_t{1} << 32};
      }),
      "overflows int64");
  add("byte_size_overflow", variant([](GgufBuilder &g) {
        g.tensors[0].type = 28;  // f64: 2^62 elements are 2^65 bytes
        g.tensors[0].ne = {uint64_t{1} << 31, uint64_t{1} << 31};
      }),
      "overflows");
  add("unknown_type_99", variant([](GgufBuilder &g) { g.tensors[1].type = 99; }),
      "unknown tensor type id 99", kUnknownType);
  add("unknown_type_43", variant([](GgufBuilder &g) { g.tensors[1].type = 43; }),
      "unknown tensor type id 43", kUnknownType);
  add("unknown_type_huge", variant([](GgufBuilder &g) { g.tensors[1].type = 0x80000000u; }),
      "unknown tensor type id 2147483648", kUnknownType);
  add("retired_type_q4_2", variant([](GgufBuilder &g) { g.tensors[1].type = 4; }), "q4_2",
      kUnknownType);
  add("retired_type_q4_0_4_4", variant([](GgufBuilder &g) { g.tensors[1].type = 31; }),
      "q4_0_4_4", kUnknownType);
  add("retired_type_iq4_nl_8_8", variant([](GgufBuilder &g) { g.tensors[1].type = 38; }),
      "iq4_nl_8_8", kUnknownType);
  add("row_not_block_multiple", variant([](GgufBuilder &g) {
        g.tensors[1].ne = {48, 2};
        g.tensors[1].n_bytes = 3 * 18;
      }),
      "not a multiple of q4_0's block");
  add("offset_past_end", patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_offset_pos[2], 1 << 20); }),
      "past end of data section");
  add("offset_plus_size_overflows",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_offset_pos[2], UINT64_MAX - 31); }),
      "past end of data section");
  add("misaligned_offset", variant([](GgufBuilder &g) { g.tensors[1].offset = 256 + 16; }),
      "not a multiple of the alignment");
  add("overlapping_tensors", variant([](GgufBuilder &g) { g.tensors[2].offset = 256; }),
      "overlap");
  add("same_offset", variant([](GgufBuilder &g) { g.tensors[1].offset = 0; }), "overlap");
  add("duplicate_tensor_name", variant([](GgufBuilder &g) { g.tensors[2].name = "t.f32"; }),
      "duplicate tensor name");
  add("tensor_name_with_nul",
      variant([](GgufBuilder &g) { g.tensors[0].name = std::string("t\0x", 3); }), "NUL");
  add("tensor_name_length_huge",
      patched([&](Bytes &b) { patch<uint64_t>(b, L.tensor_pos[0], uint64_t{1} << 50); }),
      "name length");
  add("data_truncated", patched([](Bytes &b) { b.pop_back(); }), "past end of data section");
  add("data_missing", patched([&](Bytes &b) { b.resize(L.data_offset); }),
      "past end of data section");
  return cases;
}

}  // namespace dq::test
